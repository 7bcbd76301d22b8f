"""Keeps Numba's on-disk kernel cache honest about helpers in other files.

Why: with `cache=True`, Numba checks only the time stamp and size of the file a kernel is
written in, not of the files it inlines from. `particles.advance` inlines the vector code of
`simd.py` and the sampling helpers of `fluid_kernels.py`: after an edit there, a warm cache
keeps running the old machine code, silently. So `prepare()` (each runner before its first
kernel call, and the first solver built; never `import engine`) hashes the sources of the
kernel packages and, when the hash differs from the one stored next to their cache files,
drops those files: the next call compiles afresh, once.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from numba.core import config

KERNEL_PACKAGES = ("solver", "render", "signals", "sources")
STAMP = "kernel-sources.sha256"
log = logging.getLogger(__name__)


def sources_digest(root: Path, packages: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for package in packages:
        for path in sorted((root / package).glob("*.py")):
            digest.update(f"{package}/{path.name}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_dirs(source_dir: Path) -> list[Path]:
    """Where Numba keeps the cache of kernels in `source_dir`: its __pycache__, or the same
    path under NUMBA_CACHE_DIR when that is set."""
    source_dir = source_dir.resolve()
    dirs = [source_dir / "__pycache__"]
    if config.CACHE_DIR:
        dirs.append(Path(config.CACHE_DIR) / source_dir.relative_to(source_dir.anchor))
    return dirs


def refresh(root: Path = Path(__file__).parent, packages: tuple[str, ...] = KERNEL_PACKAGES) -> int:
    """Drop the packages' cached kernels if any of their sources changed since they were
    cached; returns how many cache files were removed."""
    digest = sources_digest(root, packages)
    removed = 0
    for package in packages:
        for folder in cache_dirs(root / package):
            stamp = folder / STAMP
            try:
                if stamp.exists() and stamp.read_text() == digest:
                    continue
                folder.mkdir(parents=True, exist_ok=True)
                for cached in [*folder.glob("*.nbi"), *folder.glob("*.nbc")]:
                    cached.unlink(missing_ok=True)
                    removed += 1
                stamp.write_text(digest)
            except OSError as exc:  # a read-only install: its cache cannot go stale by an edit
                log.debug("kernel cache in %s left as it is: %s", folder, exc)
    if removed:
        log.info("kernel sources changed: dropped %d cached kernel files", removed)
    return removed


_prepared = False


def prepare() -> None:
    """What a runner (render, show, perform, a farm or network node) does once before its
    first kernel runs: passive OpenMP waiting, and a cache that matches the kernel sources.
    The solvers' constructors call it too, so a script that builds layers by hand (a
    benchmark, a notebook) gets the same; later calls return at once.

    Numba's OpenMP workers spin for a while after each parallel kernel. On a small CPU-only
    machine they share the cores with llvmpipe's rasteriser threads, which then wait: passive
    workers measured 5-10 ms a frame faster at 1080p on 2 cores. libgomp reads the setting
    when Numba first loads it (the first parallel kernel call); a user's own setting wins.
    Kernels compile lazily, on their first call, so the cache check here comes in time.
    """
    global _prepared
    if _prepared:
        return
    _prepared = True
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    refresh()
