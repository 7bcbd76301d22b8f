"""CPU particle splatting, for software GL (llvmpipe), where each GL point costs ~0.3 µs.

Numba projects every particle and adds its light into one float32 RGB image per worker
(into the pixel whose centre is nearest, as the GL point rule does for small points), then
sums the images in a fixed order: the result is deterministic and, uploaded as a float texture, adds into the
HDR target exactly where GL points would have drawn.
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

F32 = np.float32


class Splatter:
    """Preallocated per-worker images for one view size."""

    def __init__(self, size: tuple[int, int]) -> None:
        w, h = size
        self.size = size
        self.workers = max(1, get_num_threads())
        self.images = np.zeros((self.workers, h, w, 3), F32)
        self.out = np.zeros((h, w, 3), F32)

    def splat(self, mvp: np.ndarray, x, y, z, fade, owner, palette: np.ndarray,
              energy: float) -> np.ndarray:
        """Light of every particle into `out` (bottom row first, like a GL texture)."""
        _splat(x, y, z, fade, owner, mvp.astype(F32), palette, F32(energy), self.images)
        _reduce(self.images, self.out)
        return self.out


@njit(parallel=True, cache=True, fastmath=True)
def _splat(x, y, z, fade, owner, m, palette, energy, images):
    workers, h, w, _ = images.shape
    n = len(x)
    per = (n + workers - 1) // workers
    fw = F32(w)
    fh = F32(h)
    for c in prange(workers):
        img = images[c]
        for row in range(h):
            for col in range(w):
                img[row, col, 0] = F32(0.0)
                img[row, col, 1] = F32(0.0)
                img[row, col, 2] = F32(0.0)
        for i in range(c * per, min(n, (c + 1) * per)):
            f = fade[i]
            if f <= F32(0.0):
                continue
            px, py, pz = x[i], y[i], z[i]
            # row-vector convention (pyrr): clip = (p, 1) · view · proj
            cw = px * m[0, 3] + py * m[1, 3] + pz * m[2, 3] + m[3, 3]
            if cw <= F32(1e-4):
                continue
            cx = px * m[0, 0] + py * m[1, 0] + pz * m[2, 0] + m[3, 0]
            cy = px * m[0, 1] + py * m[1, 1] + pz * m[2, 1] + m[3, 1]
            cz = px * m[0, 2] + py * m[1, 2] + pz * m[2, 2] + m[3, 2]
            if cz < -cw or cz > cw:
                continue
            inv = F32(1.0) / cw
            sx = (cx * inv * F32(0.5) + F32(0.5)) * fw - F32(0.5)
            sy = (cy * inv * F32(0.5) + F32(0.5)) * fh - F32(0.5)
            col = np.int64(sx + F32(0.5))  # the pixel whose centre is nearest, as GL points do
            row = np.int64(sy + F32(0.5))
            if col < 0 or row < 0 or col >= w or row >= h:
                continue
            o = owner[i]
            s = f * energy
            img[row, col, 0] += palette[o, 0] * s
            img[row, col, 1] += palette[o, 1] * s
            img[row, col, 2] += palette[o, 2] * s


@njit(parallel=True, cache=True, fastmath=True)
def _reduce(images, out):
    workers, h, w, _ = images.shape
    for row in prange(h):
        for col in range(w):
            for k in range(3):
                acc = images[0, row, col, k]
                for c in range(1, workers):
                    acc += images[c, row, col, k]
                out[row, col, k] = acc
