"""Fuzz benchmark: generated hostile traffic mixed with valid streams, through the real receivers
on loopback (the OSC receiver child; the MQTT receiver child behind a private mosquitto).

    python3 benchmarks/fuzz.py --json [--packets 1000000] [--rate 15000] [--protocols osc,mqtt]

A sender process sends `packets` packets per protocol at `rate` a second: half valid (8 streams,
distinct times, one sample each), half hostile, drawn with a fixed seed from: random bytes,
truncated packets, forged time tags (2^64-1, 0, 1e300), 400-digit integers, NaN, deep nesting,
bad alcove segments (control characters, U+202E, 65,000 characters), bad ids, unknown channels,
wrong types, bundles of 600 messages, an id flood. This process polls the source as a show
would and counts the valid samples that come through. The baseline, measured in the same run,
sends only the valid half at the same rate. Reported per protocol: packets, valid samples sent
and received (and lost), rejections by reason, the receiver's peak RSS, receiver restarts, and
the ratio of valid samples kept with the hostile traffic to without it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.sources import open_source  # noqa: E402
from engine.sources.oscwire import unix_to_ntp  # noqa: E402

STREAMS = 8


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (4 - len(b) % 4)


def osc_msg(address: str, tags: str, *args) -> bytes:
    out = _pad(address.encode("utf-8", "surrogatepass")) + _pad(("," + tags).encode())
    for tag, a in zip(tags, args, strict=True):
        out += struct.pack(">f", a) if tag == "f" else struct.pack(">i", a) if tag == "i" else _pad(a)
    return out


def osc_bundle(tag: int, *msgs: bytes) -> bytes:
    return b"#bundle\0" + struct.pack(">Q", tag) + b"".join(struct.pack(">i", len(m)) + m for m in msgs)


def osc_hostile(rng: random.Random, now: float) -> bytes:
    good = osc_msg("/alcove/a1/p/x01/eda", "f", 5.0)
    pick = rng.randrange(13)
    if pick == 0:
        return rng.randbytes(rng.randrange(1, 200))
    if pick == 1:
        return osc_bundle(unix_to_ntp(now), good)[: rng.randrange(1, 40)]
    if pick == 2:
        return osc_bundle(rng.choice([2**64 - 1, 0, 2, unix_to_ntp(now + 1e7)]), good)
    if pick == 3:
        alcove = rng.choice(["a\x01b", "\u202eevil", "x" * 2000, "Jane Doe"])
        return osc_msg(f"/alcove/{alcove}/p/x02/eda", "f", 5.0)
    if pick == 4:
        return osc_msg("/alcove/a1/p/Jane Doe/eda", "f", 5.0)
    if pick == 5:
        return osc_msg("/alcove/a1/p/x03/mood", "f", 5.0)
    if pick == 6:
        return osc_msg("/alcove/a1/p/x04/eda", "ff", float("nan"), float("inf"))
    if pick == 7:
        return osc_msg("/alcove/a1/p/x05/eda", "f", 1e30)
    if pick == 8:
        return osc_msg("/alcove/a1/p/x06/eda", "s", b"fast")
    if pick == 9:
        inner = good
        for _ in range(12):
            inner = osc_bundle(1, inner)
        return inner
    if pick == 10:
        return osc_bundle(1, *[good] * 600)
    if pick == 11:
        return osc_msg(f"/alcove/a1/p/f{rng.randrange(10**9)}/eda", "f", 5.0)  # an id flood
    return osc_msg("/alcove/a1/p/x07/eda", "if", -5, 1.0)  # a negative rate


def mqtt_hostile(rng: random.Random, now: float) -> tuple[str, bytes]:
    pick = rng.randrange(11)
    topic = "owl/a1/x01/eda"
    if pick == 0:
        return topic, rng.randbytes(rng.randrange(1, 200))
    if pick == 1:
        return topic, b'{"t": ' + b"9" * 400 + b', "v": 1}'
    if pick == 2:
        return topic, json.dumps({"t": rng.choice([1e300, -1e300, 0, now + 1e7]), "v": 1}).encode()
    if pick == 3:
        return topic, b"[" * 5000 + b"]" * 5000
    if pick == 4:
        return topic, b'{"t": NaN, "v": NaN}'
    if pick == 5:
        alcove = rng.choice(["\u202eevil", "a b", "x" * 2000])  # control characters: mosquitto drops us
        return f"owl/{alcove}/x02/eda", b'{"v": 1}'
    if pick == 6:
        return "owl/a1/Jane Doe/eda", b'{"v": 1}'
    if pick == 7:
        return "owl/a1/x03/mood", b'{"v": 1}'
    if pick == 8:
        return topic, b'{"v": "fast"}'
    if pick == 9:
        return f"owl/a1/f{rng.randrange(10**9)}/eda", b'{"v": 1}'
    return topic, BIG


BIG = b'{"t0": %.3f, "rate": 100, "v": [' + b",".join([b"1"] * 20000) + b"]}"


def send(protocol: str, port: int, packets: int, rate: float, hostile: bool, seed: int) -> dict:
    """Sender process: paced traffic, the valid and the hostile half from separate senders
    (an attacker does not share the valid sender's socket or connection)."""
    rng = random.Random(seed)
    start = time.time()
    valid = 0
    if protocol == "osc":
        import socket

        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
        for sock in socks:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        put = lambda who, data: socks[who].sendto(data, ("127.0.0.1", port))  # noqa: E731
    else:
        import paho.mqtt.client as mqtt

        clients = []
        for who in range(2):
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"fuzz-{seed}-{who}")
            c.max_queued_messages_set(0)
            c.connect("127.0.0.1", port)
            c.loop_start()
            clients.append(c)
    for i in range(packets):
        ahead = start + i / rate - time.time()
        if ahead > 0.001:  # bursts of a millisecond's packets, then sleep: no busy wait
            time.sleep(ahead)
        now = time.time()
        if not hostile or i % 2 == 0:
            k, t = valid % STREAMS, start + valid * 1e-5
            if protocol == "osc":
                put(0, osc_bundle(unix_to_ntp(t), osc_msg(f"/alcove/a1/p/v{k}/eda", "f", 5.0 + valid % 10)))
            else:
                clients[0].publish(f"owl/a1/v{k}/eda", json.dumps({"t": t, "v": 5.0 + valid % 10}), qos=0)
            valid += 1
        elif protocol == "osc":
            put(1, osc_hostile(rng, now))
        else:
            topic, payload = mqtt_hostile(rng, now)
            payload = payload.replace(b"%.3f", b"%.3f" % now) if payload is BIG else payload
            clients[1].publish(topic, payload, qos=0)
    if protocol == "mqtt":
        time.sleep(1.0)
        for c in clients:
            c.loop_stop()
            c.disconnect()
    return {"packets": packets, "valid_sent": valid, "seconds": time.time() - start}


def rss_peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run(protocol: str, packets: int, rate: float, hostile: bool, seed: int) -> dict:
    broker = None
    if protocol == "osc":
        src = open_source("osc://127.0.0.1:0")
    else:
        from tests.mosquitto import Broker

        broker = Broker()
        src = open_source(f"mqtt://127.0.0.1:{broker.port}/owl/#?qos=0")
    src.start()
    try:
        t0 = time.monotonic()
        if protocol == "mqtt":
            while not src.connected:
                src.poll(time.monotonic() - t0)
                time.sleep(0.01)
        port = src.bound_port if protocol == "osc" else broker.port
        cmd = [sys.executable, __file__, "--send", protocol, "--port", str(port), "--packets", str(packets),
               "--rate", str(rate), "--seed", str(seed)] + ([] if hostile else ["--clean"])
        sender = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        received, errors = 0, 0
        while sender.poll() is None:
            try:
                chunks, _ = src.poll(time.monotonic() - t0)
            except Exception:  # noqa: BLE001 - counted: the show would carry on
                errors += 1
                chunks = []
            received += sum(c.v.size for c in chunks if c.participant.startswith("v"))
            time.sleep(1 / 60)
        sent = json.loads(sender.stdout.read())
        quiet_since, drained_at = time.monotonic(), time.monotonic() + 300
        while time.monotonic() - quiet_since < 3.0 and time.monotonic() < drained_at:  # late is not lost
            chunks, _ = src.poll(time.monotonic() - t0)
            n = sum(c.v.size for c in chunks if c.participant.startswith("v"))
            received += n
            quiet_since = time.monotonic() if n else quiet_since
            time.sleep(1 / 60)
        peak = rss_peak_kib(src._proc.pid) if src._proc is not None else 0
        chunks, _ = src.finish(time.monotonic() - t0)
        received += sum(c.v.size for c in chunks if c.participant.startswith("v"))
        return {**sent, "valid_received": received, "valid_lost": sent["valid_sent"] - received,
                "rejects": dict(sorted(src.rejects.counts.items())),
                "receiver_peak_rss_mib": round(peak / 1024, 1),
                "receiver_restarts": getattr(src, "restarts", 0), "poll_errors": errors,
                "drain_after_sender_s": round(time.monotonic() - t0 - sent["seconds"], 1)}
    finally:
        src.stop()
        if broker is not None:
            broker.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--baseline-packets", type=int, default=100_000)
    ap.add_argument("--rate", type=float, default=15_000)
    ap.add_argument("--protocols", default="osc,mqtt")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--send", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--clean", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.send:
        print(json.dumps(send(args.send, args.port, args.packets, args.rate, not args.clean, args.seed)))
        return 0
    out: dict = {"rate": args.rate, "host_cpus": os.cpu_count()}
    for protocol in args.protocols.split(","):
        base = run(protocol, args.baseline_packets, args.rate, False, args.seed)
        fuzz = run(protocol, args.packets, args.rate, True, args.seed)
        kept = lambda r: r["valid_received"] / max(1, r["valid_sent"])  # noqa: E731
        out[protocol] = {"fuzz": fuzz, "baseline_valid_only": base,
                         "valid_kept_ratio_fuzz_vs_baseline": round(kept(fuzz) / max(kept(base), 1e-9), 6)}
        print(json.dumps({protocol: out[protocol]}, indent=None if args.json else 2), file=sys.stderr)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
