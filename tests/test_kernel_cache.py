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
