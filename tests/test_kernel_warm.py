"""The kernel manifest lists what a scene's frames call; shares balance; a warm cache is quiet."""

from __future__ import annotations

import json
import subprocess
import sys

from engine import kernel_warm
from tests.conftest import ROOT


def test_the_manifest_lists_exactly_the_kernels_symphony_calls():
    """Rendered in a fresh process: the kernels and signatures it used are the manifest's, so a
    cold first run compiles them all before the first frame and none at a frame. (If this
    fails after a kernel or scene change: python3 tools/kernel_manifest.py.)"""
    tool = ROOT / "tools" / "kernel_manifest.py"
    probe = subprocess.run([sys.executable, str(tool), "--probe", "symphony"], cwd=ROOT,
                           capture_output=True, text=True, timeout=900, check=True)
    used = json.loads(probe.stdout)
    listed = kernel_warm.kernels_for("symphony")
    assert sorted(used) == listed
    for name in listed:
        assert sorted(used[name]["signatures"]) == kernel_warm.manifest()["kernels"][name]["signatures"]
        assert kernel_warm.signatures(name)  # and they parse back into Numba types


def test_shares_balance_compile_time_longest_first():
    names = kernel_warm.kernels_for("symphony")
    parts = kernel_warm.shares(names, 2)
    assert sorted(n for part in parts for n in part) == sorted(names)
    cost = {n: kernel_warm.manifest()["kernels"][n]["seconds"] for n in names}
    loads = [sum(cost[n] for n in part) for part in parts]
    assert max(loads) - min(loads) <= max(cost.values())  # no better than the longest kernel
    assert kernel_warm.shares(names[:1], 3)[1:] == [[], []]


def test_a_warm_cache_compiles_nothing_and_says_nothing():
    from engine.offline import render_array

    render_array("symphony", 2, size=(64, 36))  # whatever this process had not loaded yet
    said = []
    assert kernel_warm.warm("symphony", True, lambda done, total: said.append((done, total))) == 0.0
    assert said == [] and all(kernel_warm.is_cached(n) for n in kernel_warm.kernels_for("symphony"))
    gpu = kernel_warm.kernels_for("symphony", software=False)
    assert gpu and not [n for n in gpu if n.startswith("engine.render.")]


def test_other_scenes_fall_back_to_every_listed_kernel():
    assert kernel_warm.kernels_for("my_own_scene") == sorted(kernel_warm.manifest()["kernels"])
