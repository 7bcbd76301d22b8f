"""Time to the demo video: README command 1 (install excluded) on a cold and a warm kernel cache.

    python benchmarks/startup.py --json [--seconds 10] [--rounds 1] [--baseline-tree ../main]

Each case runs `python3 run_symphony.py render symphony -o OUT.mp4` as a user does, in a fresh
process, with NUMBA_CACHE_DIR pointing at a new empty folder (cold: the first run) or at the
folder a cold case just filled (warm):
- cold_serial: the same-run baseline: the main process compiles every kernel, one after
  another (SYMPHONY_KERNEL_HELPERS=0; the same compile work as lazily at first call);
- cold_parallel: as users run it: kernels compile in the main process and helper processes at
  once (engine/kernel_warm.py);
- warm: a second run on the cache cold_parallel filled;
- cold_baseline_tree (with --baseline-tree DIR): another checkout's command on a cold cache,
  e.g. the code before this change, for a before/after in the same run.
Wall seconds per case, its closing line (compile time, first frame, steady fps), and the load
average before and after: the host is shared, so compare the cases of one run, not runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cache: Path, out: Path, seconds: float, helpers: str | None, root: Path = ROOT) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(root)}
    env.pop("SYMPHONY_KERNEL_HELPERS", None)
    if helpers is not None:
        env["SYMPHONY_KERNEL_HELPERS"] = helpers
    cmd = [sys.executable, str(root / "run_symphony.py"), "render", "symphony", "-o", str(out),
           "--seconds", f"{seconds:g}"]
    begin = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - begin
    closing = done.stderr.strip().splitlines()[-1]
    return {"wall_s": round(wall, 2), "closing_line": closing}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="video length (README: 10)")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the three cases")
    ap.add_argument("--json", action="store_true", help="print JSON only")
    ap.add_argument("--baseline-tree", type=Path, metavar="DIR",
                    help="also time another checkout's command on a cold cache (e.g. ../main)")
    args = ap.parse_args()
    rounds = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.rounds):
            serial_cache, parallel_cache = Path(tmp) / f"serial{k}", Path(tmp) / f"parallel{k}"
            cases = {}
            if args.baseline_tree:
                cases["cold_baseline_tree"] = run(Path(tmp) / f"base{k}", Path(tmp) / "b.mp4", args.seconds,
                                                  None, args.baseline_tree.resolve())
            cases |= {"cold_serial": run(serial_cache, Path(tmp) / "s.mp4", args.seconds, "0"),
                     "cold_parallel": run(parallel_cache, Path(tmp) / "p.mp4", args.seconds, None)}
            cases["warm"] = run(parallel_cache, Path(tmp) / "w.mp4", args.seconds, None)
            base = cases["cold_serial"]["wall_s"]
            cases["cold_parallel_vs_cold_serial"] = round(cases["cold_parallel"]["wall_s"] / base, 3)
            cases["warm_vs_cold_serial"] = round(cases["warm"]["wall_s"] / base, 3)
            if args.baseline_tree:
                before = cases["cold_baseline_tree"]["wall_s"]
                parallel = cases["cold_parallel"]["wall_s"]
                cases["cold_parallel_vs_cold_baseline_tree"] = round(parallel / before, 3)
            rounds.append(cases)
            if not args.json:
                print(json.dumps(cases, indent=1), file=sys.stderr)
    result = {"command": "run_symphony.py render symphony -o OUT.mp4", "seconds": args.seconds,
              "cpus": os.cpu_count(), "load_before": [round(v, 2) for v in load_before],
              "load_after": [round(v, 2) for v in os.getloadavg()], "rounds": rounds}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
