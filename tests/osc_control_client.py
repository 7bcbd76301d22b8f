"""A real OSC client in its own process (python-osc), as a tablet or TouchDesigner would be:
reads `ADDRESS VALUE [VALUE...]` lines on stdin (values: ints, floats or strings; none for
no argument) and sends each as one message to 127.0.0.1:PORT, printing `sent <t>` (unix time
after the send) so the test can time the round trip. `flood SECONDS` sends garbage instead."""

from __future__ import annotations

import os
import socket
import sys
import time

from pythonosc.udp_client import SimpleUDPClient


def value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def flood(port: int, seconds: float) -> int:
    """Random datagrams, truncated OSC and unknown addresses, as fast as the socket takes them."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    junk = [os.urandom(n) for n in (3, 16, 64, 512, 1400)] + [
        b"/symphony/master\0\0\0\0,f\0\0", b"/symphony/nothing\0\0\0,i\0\0\0\0\0\1", b"#bundle\0\0\0"]
    sent, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        for data in junk:
            try:
                sock.sendto(data, ("127.0.0.1", port))
                sent += 1
            except OSError:
                pass
    return sent


def main() -> int:
    port = int(sys.argv[1])
    client = SimpleUDPClient("127.0.0.1", port)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "flood":
            print(f"flooded {flood(port, float(parts[1]))}", flush=True)
            continue
        args = [value(p) for p in parts[1:]]
        client.send_message(parts[0], args[0] if len(args) == 1 else args)
        print(f"sent {time.time():.6f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
