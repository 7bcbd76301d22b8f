"""OSC decode cost per packet: the receiver's work between `recvfrom` and a batched chunk.

    python3 benchmarks/osc_decode.py --json [--baseline-tree /work/main] [--rounds 5]

Three packet mixes, decoded by `engine.sources.osc.Decoder` (wire parse, address, admission,
Intake): `valid` (the fuzz benchmark's valid half: a time-tagged bundle of one one-float
message, 8 streams), `hostile` (the fuzz benchmark's hostile half) and `sensor` (a bundle of 4
channels x 12 samples, one per participant, 64 participants: the ingest benchmark's shape).
With `--baseline-tree`, the same measurement runs on that checkout in a child process,
alternating with this tree's round by round (the host is shared: interleaving lets a load
swing hit both alike); reported are the medians over rounds and the ratio baseline / ours.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
N = 20_000


def packets(mix: str, now: float) -> list[bytes]:
    sys.path.insert(0, str(BENCH))
    from fuzz import osc_bundle, osc_hostile, osc_msg

    from engine.sources.oscwire import unix_to_ntp

    if mix == "valid":
        return [osc_bundle(unix_to_ntp(now + i * 1e-5),
                           osc_msg(f"/alcove/a1/p/v{i % 8}/eda", "f", 5.0 + i % 10)) for i in range(N)]
    if mix == "hostile":
        rng = random.Random(15)
        return [osc_hostile(rng, now) for _ in range(N)]
    out = []
    for i in range(N // 8):
        p, t = i % 64, now + (i // 64) * 0.05
        values = [0.5 + 0.01 * k for k in range(12)]
        msgs = [osc_msg(f"/alcove/a1/p/q{p:02d}/{ch}", "i" + "f" * 12, 240, *values)
                for ch in ("ecg", "ppg", "respiration", "eda")]
        out.append(osc_bundle(unix_to_ntp(t), *msgs))
    return out


def measure(rounds: int) -> None:
    """Child mode: one line of JSON per round, µs per packet for each mix (read from stdin: go)."""
    from engine.sources.intake import Intake, Rejects
    from engine.sources.osc import Decoder

    Intake.warm_up()
    now = time.time()
    mixes = {m: packets(m, now) for m in ("valid", "hostile", "sensor")}
    for _ in range(rounds):
        sys.stdin.readline()
        out = {}
        for mix, pk in mixes.items():
            dec = Decoder(Intake(Rejects("bench", quiet=True), time_window=86400.0))
            t = time.thread_time()  # CPU time: on a shared host, wall time measures the neighbours
            for k, p in enumerate(pk):
                dec.packet(p, now + k * 1e-6)
            out[mix] = (time.thread_time() - t) / len(pk) * 1e6
        print(json.dumps(out), flush=True)


def child(tree: Path, rounds: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.Popen([sys.executable, str(BENCH / "osc_decode.py"), "--child", str(rounds)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tree)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--baseline-tree", type=Path)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        measure(args.child)
        return 0
    trees = {"ours": BENCH.parent}
    if args.baseline_tree:
        trees["baseline"] = args.baseline_tree.resolve()
    procs = {name: child(tree, args.rounds) for name, tree in trees.items()}
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, proc in procs.items():  # alternate: ours, baseline, ours, baseline, ...
            proc.stdin.write("go\n")
            proc.stdin.flush()
            runs[name].append(json.loads(proc.stdout.readline()))
    for proc in procs.values():
        proc.stdin.close()
        proc.wait()
    out: dict = {"packets_per_mix": {"valid": N, "hostile": N, "sensor": N // 8}, "rounds": args.rounds}
    for name, rs in runs.items():
        out[f"{name}_us_per_packet"] = {m: round(statistics.median(r[m] for r in rs), 2) for m in rs[0]}
    if "baseline" in runs:
        base, ours = out["baseline_us_per_packet"], out["ours_us_per_packet"]
        out["speedup_baseline_over_ours"] = {m: round(base[m] / ours[m], 3) for m in ours}
    print(json.dumps(out, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
