#!/usr/bin/env python3
"""Write engine/kernel_manifest.json: the kernels each shipped scene calls, with signatures.

Why: engine/kernel_warm.py compiles them in parallel on a cold cache, and needs to know them
before the first frame. Run after changing a kernel's arguments or a scene's layers:

    python3 tools/kernel_manifest.py

Each scene renders two seconds of small frames in its own process on one fresh Numba cache (so each
kernel's compile time is measured once, where it is first compiled: the shares' weights).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("engine.solver.fluid_kernels", "engine.solver.particle_order", "engine.solver.strands",
           "engine.solver.particles", "engine.render.splat", "engine.render.cpu_lines",
           "engine.signals.kernels", "engine.sources.intake")


def probe(scene: str) -> dict:
    """In this process: render two frames, return {kernel: {signatures, seconds}}."""
    from numba.core import event
    from numba.core.registry import CPUDispatcher

    seconds: dict[str, float] = {}
    started: dict[int, float] = {}

    class Timer(event.Listener):
        def on_start(self, ev):
            started[id(ev.data["dispatcher"])] = time.perf_counter()

        def on_end(self, ev):
            d = ev.data["dispatcher"]
            name = f"{d.py_func.__module__}:{d.py_func.__name__}"
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started.pop(id(d), 0.0)

    event.register("numba:compile", Timer())
    from engine.offline import render_array

    render_array(scene, 60, size=(320, 180))  # sides divisible by 4: the bloom box kernels too
    out = {}
    for module in MODULES:
        for attr, disp in vars(importlib.import_module(module)).items():
            cached = isinstance(disp, CPUDispatcher) and type(disp._cache).__name__ != "NullCache"
            if cached and disp.signatures:
                name = f"{module}:{attr}"
                out[name] = {"signatures": sorted(repr(s) for s in disp.signatures),
                             "seconds": round(seconds.get(name, 0.0), 2)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probe", metavar="SCENE", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return 0
    from engine.scene import list_scenes

    scenes, kernels = {}, {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        for scene in list_scenes():
            found = json.loads(subprocess.run([sys.executable, __file__, "--probe", scene], env=env,
                                              check=True, capture_output=True, text=True).stdout)
            scenes[scene] = sorted(found)
            for name, entry in found.items():
                known = kernels.setdefault(name, {"signatures": [], "seconds": 0.0})
                known["signatures"] = sorted(set(known["signatures"]) | set(entry["signatures"]))
                known["seconds"] = max(known["seconds"], entry["seconds"])
            print(f"{scene}: {len(found)} kernels", file=sys.stderr)
    path = ROOT / "engine" / "kernel_manifest.json"
    path.write_text(json.dumps({"scenes": scenes, "kernels": dict(sorted(kernels.items()))}, indent=1) + "\n")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
