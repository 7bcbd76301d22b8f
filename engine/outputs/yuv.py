"""RGBA → yuv420p for H.264/HEVC, on the encoder thread, as libswscale converts it (BT.601
limited range; chroma a 2-pixel box across and a [1 3 3 1]/8 filter down, edge rows repeated),
within one level.

Why: PyAV hands an RGBA frame to libswscale, which at 1080p costs about 12 ms of CPU a frame
(measured 11.9-20 ms on the shared 2-core host); this kernel, 15-bit fixed point on the pixels
read as little-endian uint32, costs 3.5 ms, and releases the GIL so the render thread runs on.
A GL pass writing the planes was measured too: 16 ms of llvmpipe CPU (texel fetches are slow in
software), so on software GL the conversion stays on the CPU.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# coefficients / 255 in 15-bit fixed point; chroma sums carry weight 16 (2 across × 1+3+3+1)
_Y = (8414, 16519, 3208)
_U = (-4857, -9535, 14392)
_V = (14392, -12051, -2341)


@njit(cache=True, nogil=True, boundscheck=False)
def rgba_to_yuv420p(rgba: np.ndarray, out: np.ndarray, acc: np.ndarray) -> None:
    """(h, w, 4) uint8 RGBA (C-contiguous) → (3h/2, w) uint8 planes Y, U, V as PyAV's
    `from_ndarray(..., "yuv420p")` takes them; `acc` is (3, w/2) int32 scratch."""
    h, w = rgba.shape[0], rgba.shape[1]
    px = rgba.reshape(h, w * 4).view(np.uint32)  # one pixel a word: R in the low byte
    for y in range(h):
        row, src = out[y], px[y]
        for x in range(w):
            p = np.int32(src[x])
            row[x] = (_Y[0] * (p & 255) + _Y[1] * ((p >> 8) & 255) + _Y[2] * ((p >> 16) & 255)
                      + (16 << 15) + (1 << 14)) >> 15
    cw, ch = w // 2, h // 2
    u_plane = out[h:].reshape(-1)
    v_plane = u_plane[cw * ch:]
    for cy in range(ch):
        acc[:] = 0
        for k in range(4):
            src = px[min(max(2 * cy - 1 + k, 0), h - 1)]
            wt = 1 if k == 0 or k == 3 else 3
            for cx in range(cw):
                a, b = np.int32(src[2 * cx]), np.int32(src[2 * cx + 1])
                acc[0, cx] += wt * ((a & 255) + (b & 255))
                acc[1, cx] += wt * (((a >> 8) & 255) + ((b >> 8) & 255))
                acc[2, cx] += wt * (((a >> 16) & 255) + ((b >> 16) & 255))
        o = cy * cw
        for cx in range(cw):
            r, g, b = acc[0, cx], acc[1, cx], acc[2, cx]
            u_plane[o + cx] = (_U[0] * r + _U[1] * g + _U[2] * b + (128 << 19) + (1 << 18)) >> 19
            v_plane[o + cx] = (_V[0] * r + _V[1] * g + _V[2] * b + (128 << 19) + (1 << 18)) >> 19


class Yuv420p:
    """Preallocated planes and scratch for one frame size (no allocation per frame)."""

    def __init__(self, size: tuple[int, int]) -> None:
        w, h = size
        if w % 2 or h % 2:
            raise ValueError("yuv420p needs an even width and height")
        self.planes = np.empty((h * 3 // 2, w), np.uint8)
        self.acc = np.empty((3, w // 2), np.int32)

    def convert(self, rgba: np.ndarray) -> np.ndarray:
        """The planes of `rgba` ((h, w, 4) uint8), valid until the next call."""
        h, w = self.planes.shape[0] * 2 // 3, self.planes.shape[1]
        if rgba.shape != (h, w, 4) or rgba.dtype != np.uint8:  # the kernel does not check bounds
            raise ValueError(f"expected a ({h}, {w}, 4) uint8 frame, got {rgba.shape} {rgba.dtype}")
        rgba_to_yuv420p(np.ascontiguousarray(rgba), self.planes, self.acc)
        return self.planes
