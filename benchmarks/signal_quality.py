"""What signal quality costs per frame: `Signals.update` with and without the quality trackers.

    python3 benchmarks/signal_quality.py [--participants 64] [--seconds 10] [--rate 250] [--json]

`participants` × (ecg, ppg, respiration, eda) at `rate` Hz arrive in 1/60 s chunks, as in a
show at 60 fps, with movement bursts in a quarter of the belts. The baseline is the same run
with quality off (`engine.signals.core.QUALITY_CHANNELS` emptied: detectors ungated, no
trackers); both passes are measured in this process, warm (compiled kernels cached), twice
each, interleaved, best kept.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine.signals.core as core  # noqa: E402
from engine.data import Chunk  # noqa: E402
from engine.signals import Signals  # noqa: E402

FPS = 60.0


def streams(participants: int, seconds: float, rate: float) -> dict[tuple[str, str], np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(0.0, seconds, 1.0 / rate)
    out = {}
    for k in range(participants):
        pid = f"p{k:02d}"
        beat = np.exp(-((t + 0.05 * k) % 0.8 - 0.1) ** 2 / 2e-4)
        out[(pid, "ecg")] = 1.5 * beat + 0.02 * rng.standard_normal(t.size)
        out[(pid, "ppg")] = np.sin(2 * np.pi * 1.2 * t + k) + 0.05 * rng.standard_normal(t.size)
        resp = np.cos(2 * np.pi * 0.25 * t + 0.3 * k)
        if k % 4 == 0:
            resp[(t > seconds / 2) & (t < seconds / 2 + 2)] += 4.0 * rng.standard_normal(1)
        out[(pid, "respiration")] = resp
        out[(pid, "eda")] = 5.0 + 0.1 * np.sin(0.1 * t)
    return out


def run(data: dict, seconds: float, rate: float, quality: bool) -> float:
    saved = core.QUALITY_CHANNELS
    core.QUALITY_CHANNELS = saved if quality else ()
    try:
        sig = Signals(max_participants=len(data) // 4 + 1, stale_after=1e9, left_after=1e9)
        t = np.arange(0.0, seconds, 1.0 / rate)
        frames = int(seconds * FPS)
        bounds = np.searchsorted(t, np.arange(frames + 1) / FPS)
        chunks_per_frame = [[Chunk(pid, ch, t[a:b], x[a:b].astype(np.float32))
                             for (pid, ch), x in data.items()]
                            for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        start = time.perf_counter()
        for i, chunks in enumerate(chunks_per_frame):
            sig.update(chunks, [], (i + 1) / FPS, i, 1 / FPS)
        return (time.perf_counter() - start) / frames
    finally:
        core.QUALITY_CHANNELS = saved


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--participants", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=250.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    data = streams(args.participants, args.seconds, args.rate)
    run(data, 2.0, args.rate, True)  # compile / load the kernels
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(2):  # interleaved, A B A B: a busy machine slows both alike
        for quality in (False, True):
            times[quality].append(run(data, args.seconds, args.rate, quality))
    base, qual = min(times[False]), min(times[True])
    result = {"participants": args.participants, "channels": 4, "rate_hz": args.rate, "fps": FPS,
              "baseline_ms_per_frame": round(1e3 * base, 3), "quality_ms_per_frame": round(1e3 * qual, 3),
              "ratio": round(qual / base, 3)}
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
