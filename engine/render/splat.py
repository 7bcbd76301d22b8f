"""CPU particle splatting, for software GL (llvmpipe), where each GL point costs ~0.3 µs.

Two Numba passes over preallocated arrays: every particle is projected once (its pixel and
its light), then each worker adds the particles that land in its own band of rows into one
shared float32 RGB image. Bands never overlap, so there is no per-worker image to clear and
sum, and the result does not depend on thread timing. Uploaded as a float texture it adds into
the HDR target exactly where GL points would have drawn (the pixel whose centre is nearest).
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

F32 = np.float32


class Splatter:
    """Preallocated image and projection buffers for one view size."""

    def __init__(self, size: tuple[int, int]) -> None:
        w, h = size
        self.size = size
        self.bands = max(1, get_num_threads())
        self.out = np.zeros((h, w, 4), F32)  # RGBA: uploads straight into an RGBA32F target
        self._pixel = np.zeros(0, np.int64)
        self._light = np.zeros(0, F32)

    def splat(self, mvp: np.ndarray, x, y, z, fade, tint, owner, palette: np.ndarray,
              energy: float) -> np.ndarray:
        """Light of every particle into `out` (bottom row first, like a GL texture)."""
        if len(self._pixel) != len(x):
            self._pixel = np.zeros(len(x), np.int64)
            self._light = np.zeros(len(x), F32)
        _project(x, y, z, fade, tint, mvp.astype(F32), self.size[0], self.size[1], self._pixel,
                 self._light, F32(energy))
        _accumulate(self._pixel, self._light, owner, palette, self.out, self.bands)
        return self.out


@njit(parallel=True, cache=True, fastmath=True)
def _project(x, y, z, fade, tint, m, w, h, pixel, light, energy):
    """Pixel index (row·w + col, or -1 when off screen) and brightness of each particle."""
    fw = F32(w)
    fh = F32(h)
    for i in prange(len(x)):
        px, py, pz = x[i], y[i], z[i]
        # row-vector convention (pyrr): clip = (p, 1) · view · proj
        cw = px * m[0, 3] + py * m[1, 3] + pz * m[2, 3] + m[3, 3]
        cx = px * m[0, 0] + py * m[1, 0] + pz * m[2, 0] + m[3, 0]
        cy = px * m[0, 1] + py * m[1, 1] + pz * m[2, 1] + m[3, 1]
        cz = px * m[0, 2] + py * m[1, 2] + pz * m[2, 2] + m[3, 2]
        inv = F32(1.0) / max(cw, F32(1e-6))
        col = np.int64(np.floor((cx * inv * F32(0.5) + F32(0.5)) * fw))
        row = np.int64(np.floor((cy * inv * F32(0.5) + F32(0.5)) * fh))
        visible = (fade[i] > F32(0.0)) and (cw > F32(1e-4)) and (cz >= -cw) and (cz <= cw) \
            and (col >= 0) and (row >= 0) and (col < w) and (row < h)
        pixel[i] = row * w + col if visible else -1
        light[i] = fade[i] * energy * (F32(0.7) + F32(0.6) * tint[i])  # per-particle sparkle


@njit(parallel=True, cache=True, fastmath=True)
def _accumulate(pixel, light, owner, palette, out, bands):
    h, w, c = out.shape
    rows = (h + bands - 1) // bands
    flat = out.reshape(h * w, c)
    for band in prange(bands):
        lo = band * rows * w
        hi = min(h, (band + 1) * rows) * w
        flat[lo:hi] = F32(0.0)
        for i in range(len(pixel)):
            p = pixel[i]
            if p < lo or p >= hi:
                continue
            o = owner[i]
            s = light[i]
            flat[p, 0] += palette[o, 0] * s
            flat[p, 1] += palette[o, 1] * s
            flat[p, 2] += palette[o, 2] * s
