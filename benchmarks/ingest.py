"""Ingest benchmark: sustained samples/s over OSC bundles and MQTT chunks on loopback.

    python3 benchmarks/ingest.py --json [--seconds 10] [--participants 64] [--rate 400]

A sender process streams `participants` × 4 channels (ecg, ppg, respiration, eda) at `rate`
Hz, in 50 ms messages (OSC: one bundle per participant, time-tagged, built with python-osc;
MQTT: one JSON chunk per channel, QoS 1, through a private mosquitto on 127.0.0.1). This
process runs the show's path: `source.poll` → `Signals.update` (all features on) at 60 fps,
and between frames spins the CPU (a busy render loop holding the GIL), so the receivers must
cope with a starved main thread. Reported: samples sent/received/lost (every timestamp is
checked), sustained rate, and end-to-end latency per sample: from the moment its message was
due to be sent to the moment `Signals.update` returned with it (median and p99).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import struct
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.signals import Signals  # noqa: E402
from engine.sources import open_source  # noqa: E402

CHANNELS = ("ecg", "ppg", "respiration", "eda")
PERIODS = {"osc": 0.05, "mqtt": 0.2}  # seconds of samples per message (overridable)
FPS = 60.0


def wave(channel: str, t: np.ndarray) -> np.ndarray:
    if channel == "ecg":
        return (1.5 * np.exp(-((t % 0.8) - 0.1) ** 2 / 2e-4) - 0.1).astype(np.float32)
    if channel == "ppg":
        return np.sin(2 * np.pi * 1.25 * t).astype(np.float32)
    if channel == "respiration":
        return np.sin(2 * np.pi * 0.25 * t).astype(np.float32)
    return (5.0 + 0.2 * np.sin(0.5 * t)).astype(np.float32)


def _osc_string(text: str) -> bytes:
    data = text.encode() + b"\0"
    return data + b"\0" * (-len(data) % 4)


def osc_sender(port: int, ticks: int, participants: int, rate: int, lag, period: float,
               builder: str = "fast") -> None:
    """Time-tagged bundles, one per participant per 50 ms: `,i` rate then the float samples.

    `builder="python-osc"` builds them with python-osc (about 0.2 ms a bundle, which on a
    two-core machine starves the rest); "fast" packs the identical bytes with struct/numpy."""
    import socket

    from pythonosc.osc_bundle_builder import OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    from engine.sources.oscwire import unix_to_ntp

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    n = int(round(rate * period))
    heads = {}
    for p in range(participants):
        for ch in CHANNELS:
            head = (_osc_string(f"/alcove/a1/p/p{p:02d}/{ch}") + _osc_string(",i" + "f" * n)
                    + struct.pack(">i", rate))
            heads[(p, ch)] = struct.pack(">i", len(head) + 4 * n) + head  # element size, then message
    worst = 0.0
    sent = np.zeros((ticks, participants))
    start = time.time() + 0.5  # the timeline starts once this process is ready
    lag.put(start)
    for k in range(ticks):
        due = start + (k + 1) * period
        time.sleep(max(0.0, due - time.time()))
        worst = max(worst, time.time() - due)
        t0 = start + k * period
        t = t0 + np.arange(n) / rate
        values = {ch: wave(ch, t) for ch in CHANNELS}
        raw = {ch: v.astype(">f4").tobytes() for ch, v in values.items()}
        head = b"#bundle\0" + struct.pack(">Q", unix_to_ntp(t0))
        for p in range(participants):
            sent[k, p] = time.time()
            if builder == "fast":
                dgram = head + b"".join(heads[(p, ch)] + raw[ch] for ch in CHANNELS)
            else:
                bundle = OscBundleBuilder(t0)
                for ch in CHANNELS:
                    msg = OscMessageBuilder(f"/alcove/a1/p/p{p:02d}/{ch}")
                    msg.add_arg(rate, "i")
                    for v in values[ch].tolist():
                        msg.add_arg(v, "f")
                    bundle.add_content(msg.build())
                dgram = bundle.build().dgram
            sock.sendto(dgram, ("127.0.0.1", port))
    lag.put((worst, sent))


def mqtt_sender(port: int, ticks: int, participants: int, rate: int, lag, period: float) -> None:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-sender")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    n = int(round(rate * period))
    worst = 0.0
    infos = []
    sent = np.zeros((ticks, participants))
    start = time.time() + 0.5
    lag.put(start)
    for k in range(ticks):
        due = start + (k + 1) * period
        time.sleep(max(0.0, due - time.time()))
        worst = max(worst, time.time() - due)
        t0 = start + k * period
        t = t0 + np.arange(n) / rate
        payloads = {ch: wave(ch, t).tolist() for ch in CHANNELS}
        for p in range(participants):
            sent[k, p] = time.time()
            for ch in CHANNELS:
                body = json.dumps({"t0": t0, "rate": rate, "v": payloads[ch]})
                infos.append(client.publish(f"owl/a1/p{p:02d}/{ch}", body, qos=1))
        infos = [i for i in infos if not i.is_published()]
    for info in infos:
        info.wait_for_publish(timeout=30)
    client.loop_stop()
    client.disconnect()
    lag.put((worst, sent))


def warm_up(signals: Signals) -> None:
    """Load the compiled kernels before timing (a show has long been running when data comes)."""
    t = np.arange(400) / 400.0
    from engine.data import Chunk

    for i in range(3):
        chunks = [Chunk("warmup", ch, t + i, wave(ch, t + i)) for ch in CHANNELS]
        signals.update(chunks, [], float(i + 1), i, 1.0)


def run(kind: str, seconds: float, participants: int, rate: int, busy: float, builder: str) -> dict:
    broker = None
    if kind == "osc":
        source = open_source("osc://127.0.0.1:0")
    else:
        from tests.mosquitto import Broker

        broker = Broker()
        source = open_source(f"mqtt://127.0.0.1:{broker.port}/owl/#?qos=1")
    source.start()
    if kind == "mqtt":
        deadline = time.time() + 15
        while not source.connected and time.time() < deadline:
            source.poll(0.0)
            time.sleep(0.01)
    port = source.bound_port if kind == "osc" else broker.port
    period = PERIODS[kind]
    ticks = int(seconds / period)
    n = int(round(rate * period))
    expected = ticks * n * participants * len(CHANNELS)
    ctx = mp.get_context("spawn")
    lag = ctx.Queue()
    sender = ctx.Process(target=osc_sender if kind == "osc" else mqtt_sender,
                         args=(port, ticks, participants, rate, lag, period)
                         + ((builder,) if kind == "osc" else ()))
    sender.start()
    start = lag.get(timeout=60)
    signals = Signals(max_participants=participants + 1, stale_after=5.0)
    warm_up(signals)
    clock0 = time.perf_counter()
    received = 0
    seen: dict[tuple[str, str], list[np.ndarray]] = {}
    latencies: list[tuple[np.ndarray, int, np.ndarray]] = []  # (tick, participant, available at)
    first = last = None
    frame = 0
    work: list[tuple[float, float]] = []  # per frame: seconds in poll, in Signals.update
    end = start + seconds + 20.0
    while received < expected and time.time() < end:
        now = time.perf_counter() - clock0
        chunks, events = source.poll(now)
        polled = time.perf_counter()
        signals.update(chunks, events, now, frame, 1.0 / FPS)
        avail = time.time()
        work.append((polled - clock0 - now, time.perf_counter() - polled))
        for c in chunks:
            tu = c.t + c.source_offset  # the sender's clock (unix)
            k = np.floor((tu - start) / period + 1e-6).astype(np.int64)
            latencies.append((k, int(c.participant[1:]), avail))
            seen.setdefault((c.participant, c.channel), []).append(np.round((tu - start) * rate))
            received += c.v.size
        if chunks:
            first = first or avail
            last = avail
        frame += 1
        deadline = clock0 + frame / FPS
        busy_until = time.perf_counter() + busy * (deadline - time.perf_counter())
        while time.perf_counter() < busy_until:  # a busy render loop: the GIL is never released
            pass
        time.sleep(max(0.0, deadline - time.perf_counter()))
    sender_lag, sent = lag.get(timeout=60)
    sender.join(timeout=30)
    source.stop()
    if broker is not None:
        broker.stop()
    unique = sum(np.unique(np.concatenate(v)).size for v in seen.values())
    lat = np.concatenate([avail - sent[np.clip(k, 0, ticks - 1), p] for k, p, avail in latencies])
    return {
        "samples_sent": expected,
        "samples_received": received,
        "unique_samples": int(unique),
        "lost": int(expected - unique),
        "duplicates": int(received - unique),
        "streams": len(seen),
        "seconds": round(seconds, 3),
        "samples_per_s": round(unique / seconds, 1),
        "receive_span_s": round((last or 0) - (first or 0), 3),
        "latency_ms": {"median": round(float(np.median(lat)) * 1e3, 2),
                       "p99": round(float(np.percentile(lat, 99)) * 1e3, 2),
                       "max": round(float(lat.max()) * 1e3, 2),
                       "from": "sender's send call to Signals.update returning with the sample"},
        "sender_max_lag_ms": round(sender_lag * 1e3, 2),
        "frames": frame,
        "main_loop_ms": {name: {"median": round(float(np.median(col)) * 1e3, 2),
                                "p99": round(float(np.percentile(col, 99)) * 1e3, 2)}
                         for name, col in zip(("poll", "signals"), np.array(work).T, strict=True)},
        "rejected": dict(source.rejects.counts) if source.rejects else {},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON only")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--participants", type=int, default=64)
    ap.add_argument("--rate", type=int, default=400)
    ap.add_argument("--only", choices=("osc", "mqtt"))
    ap.add_argument("--osc-period", type=float, default=PERIODS["osc"], help="seconds per OSC bundle")
    ap.add_argument("--mqtt-period", type=float, default=PERIODS["mqtt"], help="seconds per MQTT chunk")
    ap.add_argument("--osc-builder", choices=("fast", "python-osc"), default="fast",
                    help="how the sender builds OSC bundles (identical bytes; python-osc is slower)")
    ap.add_argument("--busy", type=float, default=1.0,
                    help="fraction of each frame's spare time the main loop spins the CPU (default 1)")
    args = ap.parse_args()
    PERIODS.update(osc=args.osc_period, mqtt=args.mqtt_period)
    config = {"participants": args.participants, "channels": len(CHANNELS), "rate_hz": args.rate,
              "offered_samples_per_s": args.participants * len(CHANNELS) * args.rate,
              "message_seconds": PERIODS, "main_loop_fps": FPS, "busy_fraction": args.busy,
              "osc_builder": args.osc_builder}
    out: dict = {"config": config}
    for kind in ("osc", "mqtt"):
        if args.only in (None, kind):
            out[kind] = run(kind, args.seconds, args.participants, args.rate, args.busy, args.osc_builder)
            if not args.json:
                print(kind, json.dumps(out[kind]), file=sys.stderr)
    print(json.dumps(out, indent=2))
    return 0 if all(out[k]["lost"] == 0 for k in ("osc", "mqtt") if k in out) else 1


if __name__ == "__main__":
    sys.exit(main())
