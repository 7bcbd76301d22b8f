"""The OSC control receiver's process: reads the control port, checks each packet (sender on
the allow-list, valid OSC, a known address, the right argument) and sends the parent only
valid actions, plus counts of what it refused. A flood of garbage costs this process, never
the render loop (as the data sources' receivers do)."""

from __future__ import annotations

import errno
import json
import math
import os
import select
import socket
import sys
import time

from engine.sources.oscwire import OscError, OscMessage, parse_packet

PREFIX = "/symphony/"
MAX_PACKET = 8192
FLAGS = {"blackout": "blackout", "freeze": "freeze", "source/failover": "failover"}


def to_action(msg: OscMessage) -> tuple[str, dict] | str:
    """An OSC message as an action (kind, payload), or the reason it is refused."""
    if not msg.address.startswith(PREFIX):
        return "unknown_address"
    path = msg.address[len(PREFIX):]
    args = [a.item() if hasattr(a, "item") else a for a in msg.args]  # numpy scalars: plain numbers
    number = len(args) == 1 and isinstance(args[0], int | float) and not isinstance(args[0], bool) \
        and math.isfinite(float(args[0]))
    if path in ("cue/next", "cue/prev", "panic"):
        return (path.replace("/", "_"), {})
    if path == "cue/go":
        if len(args) == 1 and isinstance(args[0], str):
            return ("cue", {"go": args[0]})
        if number and float(args[0]).is_integer():
            return ("cue", {"go": int(args[0])})
        return "wrong_type"
    if path.startswith("param/") and len(path) > 6:
        return ("param", {"name": path[6:], "value": float(args[0])}) if number else "wrong_type"
    if path in FLAGS:
        return (FLAGS[path], {"on": bool(float(args[0]) >= 0.5)}) if number else "wrong_type"
    if path in ("master", "fade"):
        return (path, {"value": float(args[0])}) if number else "wrong_type"
    return "unknown_address"


class _Lines:
    """One JSON document per line on stdout (the parent reads them without blocking)."""

    def send(self, item) -> None:
        sys.stdout.write(json.dumps(item) + "\n")
        sys.stdout.flush()


def main(argv: list[str]) -> int:
    """`python -c ... HOST PORT ALLOW-JSON WAIT`: run until the parent goes away or stdout breaks."""
    try:
        run_control(argv[0], int(argv[1]), tuple(json.loads(argv[2])), _Lines(), float(argv[3]))
    except (BrokenPipeError, KeyboardInterrupt):
        return 0
    return 0


def run_control(host: str, port: int, allow: tuple[str, ...], conn, wait_for_port: float = 0.0) -> None:
    """Receive until the parent goes away."""
    parent = os.getppid()
    _die_with_parent()
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    deadline = time.monotonic() + wait_for_port
    while True:
        try:
            sock.bind((host, port))
            break
        except OSError as exc:
            # a show taking over from a dead one waits for the old receiver to let go
            if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline or os.getppid() != parent:
                conn.send(("error", f"control port {host}:{port}: {exc.strerror or exc}"))
                return
            time.sleep(0.02)
    sock.setblocking(False)
    conn.send(("ready", sock.getsockname()[1]))
    allowed = {socket.gethostbyname(a) if a == "localhost" else a for a in allow}
    counts: dict[str, int] = {}
    sent, next_report = dict(counts), 0.0
    while True:
        readable, _, _ = select.select([sock], [], [], 0.1)
        for _ in range(256 if readable else 0):
            try:
                data, sender = sock.recvfrom(MAX_PACKET + 1)
            except BlockingIOError:
                break
            for item in _packet(data, sender[0], allowed):
                if isinstance(item, str):
                    counts[item] = counts.get(item, 0) + 1
                else:
                    conn.send(("action", item))
        now = time.monotonic()
        if now >= next_report:
            next_report = now + 0.2
            if counts != sent:
                conn.send(("counts", dict(counts)))
                sent = dict(counts)
            if os.getppid() != parent:
                return


def _die_with_parent() -> None:
    """Linux: free the port the moment the show dies (a SIGKILLed show cannot stop us), so the
    show taking over binds it within milliseconds; elsewhere the parent check below does it."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _packet(data: bytes, sender: str, allowed: set[str]) -> list:
    if "*" not in allowed and sender not in allowed:
        return ["not_allowed"]
    if len(data) > MAX_PACKET:
        return ["oversize"]
    try:
        return [to_action(m) for m in parse_packet(data)]
    except OscError:
        return ["malformed"]
