"""Compile a scene's kernels at once, on several cores, and say so: the first run's wait.

Why: kernels compile lazily at their first call, one after another (about 35 s for the demo
on 2 cores), while the user sees nothing. `kernel_manifest.json` lists, per shipped scene, the
kernels its frames call and their exact type signatures (written by `tools/kernel_manifest.py`,
checked by tests/test_kernel_warm.py). On a cold cache the main process and helper processes
(`python -m engine.kernel_warm NAME...`) compile disjoint shares at the same time; each share
lands in Numba's on-disk cache and the main process loads the helpers' share from there. The
machine code is the same whoever compiles it, so the frames equal a warm run's. A kernel left
out of the manifest (a user's scene, another signature) still compiles lazily, as before.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

MANIFEST = Path(__file__).with_name("kernel_manifest.json")
SOFTWARE_ONLY = ("engine.render.",)  # kernels only the software-GL paths call
MAX_HELPERS = 3
log = logging.getLogger(__name__)

Report = Callable[[int, int], None]


@cache
def manifest() -> dict:
    try:
        return json.loads(MANIFEST.read_text())
    except (OSError, ValueError) as exc:  # an install without it: kernels compile lazily
        log.debug("no kernel manifest: %s", exc)
        return {"scenes": {}, "kernels": {}}


def dispatcher(name: str):
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)


def signatures(name: str) -> list[tuple]:
    from numba.core import types

    namespace = {"__builtins__": {}, **vars(types)}
    return [eval(text, namespace) for text in manifest()["kernels"][name]["signatures"]]  # noqa: S307


def kernels_for(scene: str, software: bool = True) -> list[str]:
    """The manifest's kernels of a shipped scene (all it lists, for any other scene)."""
    data = manifest()
    names = data["scenes"].get(scene) or sorted(data["kernels"])
    return [n for n in names if software or not n.startswith(SOFTWARE_ONLY)]


def is_cached(name: str) -> bool:
    """Every listed signature of the kernel is in memory or in Numba's on-disk cache."""
    disp = dispatcher(name)
    try:
        index = disp._cache._cache_file._load_index()
        codegen = disp.targetctx.codegen()
        return all(sig in disp.overloads or disp._cache._index_key(sig, codegen) in index
                   for sig in signatures(name))
    except Exception as exc:  # noqa: BLE001 - Numba's internals moved: treat as cold
        log.debug("cannot read the cache index of %s: %s", name, exc)
        return False


def compile_kernel(name: str) -> None:
    """Compile the kernel's listed signatures. One the kernel no longer takes (a manifest
    older than the code) is skipped with a warning: the frames compile what they call."""
    disp = dispatcher(name)
    for sig in signatures(name):
        try:
            disp.compile(sig)
        except Exception as exc:  # noqa: BLE001 - Numba raises TypeError or its own errors
            log.warning("kernel manifest out of date for %s (%s): run tools/kernel_manifest.py",
                        name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def shares(names: list[str], parts: int) -> list[list[str]]:
    """Split kernels into `parts` shares of about equal compile time (longest first)."""
    cost = {n: float(manifest()["kernels"][n].get("seconds", 1.0)) for n in names}
    out: list[list[str]] = [[] for _ in range(parts)]
    load = [0.0] * parts
    for n in sorted(names, key=lambda n: (-cost[n], n)):
        k = load.index(min(load))
        out[k].append(n)
        load[k] += cost[n]
    return out


def warm(scene: str, software: bool = True, report: Report | None = None,
         helpers: int | None = None) -> float:
    """Compile what the scene needs and the cache lacks; returns the seconds it took (0 on a
    warm cache). `report(done, total)` is called as kernels finish (first with done = 0)."""
    try:
        cold = [n for n in kernels_for(scene, software) if not is_cached(n)]
    except (ImportError, AttributeError, KeyError, SyntaxError) as exc:  # a stale manifest
        log.warning("kernel manifest out of date (%s): kernels compile as they are first called", exc)
        return 0.0
    if not cold:
        return 0.0
    begin = time.perf_counter()
    if helpers is None:
        helpers = default_helpers()
    parts = shares(cold, min(helpers + 1, len(cold)))
    done, total, lock = [0], len(cold), threading.Lock()

    def finished() -> None:
        with lock:
            done[0] += 1
            if report is not None:
                report(done[0], total)

    if report is not None:
        report(0, total)
    procs = [_start_helper(share) for share in parts[1:]]
    readers = [threading.Thread(target=_follow, args=(p, finished), daemon=True) for p in procs]
    for t in readers:
        t.start()
    for name in parts[0]:
        compile_kernel(name)
        finished()
    for p, t in zip(procs, readers, strict=True):
        if p.wait() != 0:  # what it did not compile, the frames compile when they call it
            log.debug("kernel helper exited with %s", p.returncode)
        t.join()
    return time.perf_counter() - begin


def default_helpers() -> int:
    """One fewer than the cores (at least 1, at most 3); SYMPHONY_KERNEL_HELPERS=N overrides
    (0: the main process compiles them all, one after another, as before)."""
    try:
        return max(0, int(os.environ["SYMPHONY_KERNEL_HELPERS"]))
    except (KeyError, ValueError):
        return min(MAX_HELPERS, max(1, (os.cpu_count() or 1) - 1))


def _start_helper(names: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "engine.kernel_warm", *names],
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            cwd=str(Path(__file__).resolve().parent.parent))


def _follow(proc: subprocess.Popen, finished: Callable[[], None]) -> None:
    for line in proc.stdout:  # type: ignore[union-attr]
        if line.startswith("compiled "):
            finished()


def _main(names: list[str]) -> int:
    for name in names:
        compile_kernel(name)
        print(f"compiled {name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
