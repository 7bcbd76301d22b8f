"""Same scene + same input + same seed → identical state and frames, whether the Numba
kernels were just compiled or loaded from the cache (fast-math contraction once made these
two differ by a few bits, and a bloomed frame by up to 47 levels)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import hashlib
import numpy as np
from engine.clock import FixedClock
from engine.offline import render_array
from engine.runtime import Show
from engine.scene import create_scene
from engine.sources import open_source

digest = hashlib.sha256()
scene = create_scene("symphony", seed=3)
with open_source("synthetic", seed=3) as src:
    show = Show(scene, src, FixedClock(8.0))
    for _ in range(20):
        show.advance()
for layer in scene.layers:
    for arr in (layer._solver.x, layer._solver.y, layer._solver.z):
        digest.update(arr.tobytes())
digest.update(scene.field.grid.tobytes())
digest.update(render_array("symphony", 12, (192, 108), 8.0, "synthetic", 3).tobytes())
print(digest.hexdigest())
"""


def _run(cache: Path) -> str:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    res = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_compiled_and_cached_kernels_give_identical_results(tmp_path):
    cold = _run(tmp_path)  # compiles every kernel and fills the empty cache
    assert list(tmp_path.rglob("*.nbi")), "the first run should have cached its kernels"
    warm = _run(tmp_path)  # loads them all from the cache
    assert cold == warm
