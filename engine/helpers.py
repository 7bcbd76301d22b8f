"""Small shaping and colour helpers every scene otherwise writes for itself.

Plain Python and NumPy (no Numba, no GL): cheap to import and exact, so a scene that swaps
its own copy for these draws the same picture.
"""

from __future__ import annotations

import math

import numpy as np


def smoothstep(edge0: float, edge1: float, x: float) -> float:
    """0 below edge0, 1 above edge1, an S-curve between (GLSL's smoothstep)."""
    u = min(max((x - edge0) / (edge1 - edge0), 0.0), 1.0)
    return u * u * (3.0 - 2.0 * u)


def mix(a, b, t):
    """a when t = 0, b when t = 1, linear between (numbers or arrays, GLSL's mix)."""
    return a + (b - a) * t


def hue(h: float, saturation: float = 1.0) -> np.ndarray:
    """Linear RGB (float32, shape (3,)) of hue h at full value: 0..1 goes once round the
    colour wheel (red at 0, blue at 1/3, green at 2/3); saturation 0 is white."""
    k = (np.array([0.0, 2.0, 4.0]) / 6.0 + h) % 1.0
    rgb = np.clip(np.abs(k * 6.0 - 3.0) - 1.0, 0.0, 1.0)
    return ((1.0 - saturation) + saturation * rgb).astype(np.float32) ** 2.2  # into linear light


def palette(t: float, a=(0.5, 0.5, 0.5), b=(0.5, 0.5, 0.5), c=(1.0, 1.0, 1.0),
            d=(0.0, 1 / 3, 2 / 3)) -> np.ndarray:
    """Cosine palette a + b·cos(2π(c·t + d)) per channel (float32, shape (3,)): the defaults
    go once round a rainbow as t goes 0..1; other a, b, c, d give gradients of any mood."""
    return np.array([a[k] + b[k] * math.cos(2 * math.pi * (c[k] * t + d[k])) for k in range(3)],
                    np.float32)
