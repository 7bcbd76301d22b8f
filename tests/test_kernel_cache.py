"""Stale compiled kernels are dropped when a kernel package's sources change."""

from __future__ import annotations

from engine import kernel_cache


def make_package(root, name: str, source: str) -> None:
    pkg = root / name
    (pkg / "__pycache__").mkdir(parents=True)
    (pkg / "kernels.py").write_text(source)
    for suffix in ("nbi", "1.nbc"):
        (pkg / "__pycache__" / f"kernels.step-10.py311.{suffix}").write_bytes(b"machine code")
    (pkg / "__pycache__" / "kernels.cpython-311.pyc").write_bytes(b"bytecode")


def test_an_edit_in_any_kernel_package_drops_every_packages_cached_kernels(tmp_path, monkeypatch):
    monkeypatch.setattr(kernel_cache.config, "CACHE_DIR", "")
    make_package(tmp_path, "solver", "def step(): pass\n")
    make_package(tmp_path, "render", "from solver.kernels import step\n")
    packages = ("solver", "render")
    assert kernel_cache.refresh(tmp_path, packages) == 4  # never stamped: dropped once
    for name in packages:  # the next process compiles and caches again
        (tmp_path / name / "__pycache__" / "kernels.step-10.py311.nbi").write_bytes(b"new")
    assert kernel_cache.refresh(tmp_path, packages) == 0  # unchanged sources keep the cache
    (tmp_path / "solver" / "kernels.py").write_text("def step(): return 1\n")
    assert kernel_cache.refresh(tmp_path, packages) == 2  # render inlines solver: both go
    assert (tmp_path / "render" / "__pycache__" / "kernels.cpython-311.pyc").exists()
    assert kernel_cache.refresh(tmp_path, packages) == 0


def test_numba_cache_dir_is_kept_honest_too(tmp_path, monkeypatch):
    cache = tmp_path / "numba-cache"
    monkeypatch.setattr(kernel_cache.config, "CACHE_DIR", str(cache))
    make_package(tmp_path, "solver", "x = 1\n")
    mirrored = cache / (tmp_path / "solver").resolve().relative_to(tmp_path.anchor)
    mirrored.mkdir(parents=True)
    (mirrored / "kernels.step-10.py311.nbi").write_bytes(b"machine code")
    assert kernel_cache.refresh(tmp_path, ("solver",)) == 3
    assert not any(mirrored.glob("*.nbi"))


def test_frames_are_the_same_whether_kernels_were_compiled_in_parallel_or_loaded(tmp_path):
    """A cold cache (kernels compiled by the main process and a helper at once, engine.kernel_warm)
    and then a warm one (all loaded from disk) give bit-identical frames (FFV1 is lossless)."""
    import re

    import av
    import numpy as np

    from tests.conftest import run_cli

    env = {"NUMBA_CACHE_DIR": str(tmp_path / "numba"), "SYMPHONY_KERNEL_HELPERS": "1"}
    runs = []
    for name in ("cold.mkv", "warm.mkv"):
        res = run_cli("render", "symphony", "-o", str(tmp_path / name), "--seconds", "0.5",
                      "--size", "64x36", env=env, timeout=900)
        assert res.returncode == 0, res.stderr
        with av.open(str(tmp_path / name)) as f:
            runs.append((res.stderr, np.stack([fr.to_ndarray(format="rgb24") for fr in f.decode(video=0)])))
    (cold_log, cold), (warm_log, warm) = runs
    n = re.search(r"compiling (\d+) kernels", cold_log)
    assert n and f"kernels {n[1]}/{n[1]} compiled" in cold_log
    assert "compiling" not in warm_log
    assert cold.shape == (15, 36, 64, 3) and cold.mean() > 1.0
    np.testing.assert_array_equal(cold, warm)
