"""Solver benchmark: Numba kernels against their numpy reference, measured in the same run.

    python benchmarks/solver.py --json

Prints, per case, milliseconds per step for ours and for the baseline, their ratio, the
targets from the issue, and for the particle step the fraction of the machine's memory
bandwidth it uses (bandwidth measured here with a 2-thread STREAM triad). Best-of-N timing:
the minimum is the figure least disturbed by other work on a shared machine.

The particle case also gives the split of one step (`split`): each part's best and median
milliseconds over the same steps, ours (move, renew, sort) beside the numpy reference's
(advance, respawn), and how many blocks of eight particles share one cell (the advance loads
such a cell's corners once; particle_order.py keeps them sorted by cell).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from numba import get_num_threads, njit, prange

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import kernel_cache  # noqa: E402
from engine.solver import FlowField, ParticleSolver, StrandSolver  # noqa: E402
from engine.solver import strands as sk  # noqa: E402
from tests import solver_reference as ref  # noqa: E402

F32 = np.float32


def best_ms(fn, repeats: int = 5, number: int = 1) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t) / number)
    return best * 1000.0


@njit(parallel=True, cache=True)
def _triad(a, b, c, s):
    for i in prange(len(a)):
        a[i] = b[i] + s * c[i]


def stream_triad_gbs(n: int = 20_000_000) -> float:
    a, b, c = np.zeros(n, F32), np.ones(n, F32), np.ones(n, F32)
    ms = best_ms(lambda: _triad(a, b, c, F32(3.0)), repeats=7)
    return 3 * 4 * n / (ms / 1000.0) / 1e9


def _timed(parts: dict, steps: int) -> dict:
    """Best and median milliseconds of each part, run in turn `steps` times."""
    seen: dict[str, list[float]] = {name: [] for name in parts}
    for _ in range(steps):
        for name, fn in parts.items():
            t = time.perf_counter()
            fn()
            seen[name].append((time.perf_counter() - t) * 1000.0)
    return {name: {"best_ms": min(v), "median_ms": float(np.median(v))} for name, v in seen.items()}


def shared_cell_blocks(p: ParticleSolver, field: FlowField) -> float:
    """The fraction of blocks of eight particles whose eight lie in one field cell."""
    r = field.resolution
    cells = [np.floor(a * field.inv_cell + r / 2).astype(np.int64) & (r - 1) for a in (p.x, p.y, p.z)]
    key = ((cells[2] * r + cells[1]) * r + cells[0])[: p.count // 8 * 8].reshape(-1, 8)
    return float((key == key[:, :1]).all(axis=1).mean())


def bench_particles(count: int, quick: bool) -> dict:
    field = FlowField(64, seed=1)
    strands = StrandSolver(16, 62, 64, seed=1)
    p = ParticleSolver(count, seed=2)
    for _ in range(40):  # a realistic state: born on strands, spread by the flow, sorted
        p.step(1 / 30, field, strands)
        field.step(1 / 30)
    ours = best_ms(lambda: p.step(1 / 60, field, strands), repeats=5, number=5)

    def sort():
        if p.order is not None:
            p.order.sort_next(p, field.resolution, field.extent)

    # the step's parts, in its order (step() also refreshes the emitter list: cheap)
    split = _timed({"move (advance)": lambda: p.move(1 / 60, field),
                    "renew (respawn)": lambda: p.renew(strands), "sort (one block)": sort},
                   steps=10 if quick else 30)
    shared = shared_cell_blocks(p, field)
    moved = {}

    def numpy_advance():
        moved["state"] = ref.particles_advance(p.x, p.y, p.z, p.age, p.life, 1 / 60, field.grid,
                                               64, field.inv_cell, p.speed * field.strength, p.lift)

    def numpy_respawn():
        p.x[:], p.y[:], p.z[:], p.age[:], p.fade[:] = moved["state"]
        ref.particles_respawn(p, strands)

    base_split = _timed({"advance": numpy_advance, "respawn": numpy_respawn},
                        steps=1 if quick else 2)
    base = sum(v["best_ms"] for v in base_split.values())
    bytes_per_step = count * (20 + 20 + 8)  # advance reads/writes 5 arrays; respawn reads 2
    return {"name": f"particles {count:,} (RK2 + respawn)", "ours_ms": ours, "baseline_ms": base,
            "ratio": base / ours, "msteps_per_s": count / ours / 1000.0,
            "bytes_per_step": bytes_per_step,
            "split": {"ours": split, "numpy": base_split, "shared_cell_blocks": shared},
            "target": ">= 250 M particle-steps/s and >= 60x numpy"}


def bench_strands(quick: bool) -> list[dict]:
    field = FlowField(64, seed=1)
    s = StrandSolver(16, 63, 64, seed=3)  # 1,008 strands × 64 points
    s.togetherness = 1.0
    for _ in range(10):
        s.step(1 / 60, field)
    x, y, z = (a.reshape(s.points, s.strands).astype(np.float64) for a in (s.x, s.y, s.z))
    rest = s.rest.astype(np.float64)
    cons = best_ms(lambda: sk.constrain(s.x, s.y, s.z, s.strands, s.points, s.rest, 4, F32(0.0),
                                        False), repeats=7, number=20)
    cons_base = best_ms(lambda: ref.strand_constraints(x, y, z, rest, 4, 0.0),
                        repeats=1 if quick else 3)
    full = best_ms(lambda: s.step(1 / 60, field), repeats=7, number=10)
    return [
        {"name": f"strands {s.strands} x {s.points}, 4 length iterations", "ours_ms": cons,
         "baseline_ms": cons_base, "ratio": cons_base / cons, "target": "<= 1 ms"},
        {"name": "strands full substep (targets, Verlet+field, 4 iterations + bending, "
                 "separation, follow-the-leader)", "ours_ms": full, "baseline_ms": None,
         "ratio": None, "target": None},
    ]


def bench_field(quick: bool) -> dict:
    f = FlowField(64, seed=1)

    def step():
        for b in range(16):
            f.vortex((np.cos(b), 0.0, np.sin(b)), (0, 1, 0), 2.0, 0.8)
        f.step(1 / 30)

    ours = best_ms(step, repeats=7, number=5)
    for b in range(16):
        f.vortex((np.cos(b), 0.0, np.sin(b)), (0, 1, 0), 2.0, 0.8)
    base = best_ms(lambda: ref.field_step(f, 1 / 30), repeats=1 if quick else 2)
    f.force_count = 0
    return {"name": "field 64^3 step (16 forces, advection, projection)", "ours_ms": ours,
            "baseline_ms": base, "ratio": base / ours, "target": "<= 10 ms"}


def startup_seconds() -> float:
    """Wall time for a fresh process to import the solver and finish its first step."""
    code = ("import time; t=time.perf_counter(); from engine.solver import *; "
            "f=FlowField(64); s=StrandSolver(16,63,64); p=ParticleSolver(100000); "
            "f.step(1/30); s.step(1/30, f); p.step(1/30, f, s); print(time.perf_counter()-t)")
    root = Path(__file__).resolve().parent.parent
    runs = []
    for _ in range(2):  # the first run may fill the compile cache
        out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                             text=True, check=True)
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return runs[-1]


def taichi_peer(count: int) -> dict | None:
    try:
        import taichi  # noqa: F401
    except ImportError:
        return None
    return None  # an optional peer: not installed in this environment


def main() -> None:
    kernel_cache.prepare()  # as every runner: passive OpenMP waits, a fresh kernel cache
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON only")
    ap.add_argument("--particles", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="fewer baseline repeats")
    args = ap.parse_args()
    bandwidth = stream_triad_gbs()
    cases = [bench_particles(args.particles, args.quick), *bench_strands(args.quick),
             bench_field(args.quick)]
    p = cases[0]
    p["bandwidth_fraction"] = p["bytes_per_step"] / (p["ours_ms"] / 1000) / 1e9 / bandwidth
    flags = Path("/proc/cpuinfo").read_text() if os.path.exists("/proc/cpuinfo") else ""
    result = {
        "machine": {"cpu": platform.processor() or platform.machine(), "threads": get_num_threads(),
                    "avx512": "avx512f" in flags, "stream_triad_gbs": bandwidth},
        "cases": cases,
        "startup_second_process_s": startup_seconds(),
        "taichi": taichi_peer(args.particles) or "not installed",
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for c in cases:
        base = f"{c['baseline_ms']:.2f} ms numpy, x{c['ratio']:.1f}" if c["baseline_ms"] else ""
        print(f"{c['name']}: {c['ours_ms']:.3f} ms {base}")
        for side, parts in ((k, v) for k, v in c.get("split", {}).items() if isinstance(v, dict)):
            print("    " + side + ": " + ", ".join(f"{k} {v['best_ms']:.2f} ms" for k, v in parts.items()))
    print(f"start-up: {result['startup_second_process_s']:.2f} s; bandwidth {bandwidth:.1f} GB/s")


if __name__ == "__main__":
    main()
