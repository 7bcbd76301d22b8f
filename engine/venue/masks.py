"""Output masks rasterised once per size: 0 inside each polygon, ramping to 1 over the feather.

A mask hides what must not land on a surface (a doorway, a pillar, a face): every pixel whose
centre lies inside a polygon is exactly black; outside, the light comes back over `feather`
(a fraction of the output's height), so the edge is soft without ever lighting the inside.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import distance_transform_edt


def inside_polygon(points, size: tuple[int, int]) -> np.ndarray:
    """(h, w) bool: pixel centres inside the polygon (even-odd rule; output-normalised points)."""
    w, h = size
    x = ((np.arange(w) + 0.5) / w)[None, :]
    y = ((np.arange(h) + 0.5) / h)[:, None]
    inside = np.zeros((h, w), bool)
    pts = [(float(a), float(b)) for a, b in points]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True):
        if y0 == y1:
            continue
        crosses = (y0 > y) != (y1 > y)  # (h, 1)
        at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)  # (h, 1)
        inside ^= crosses & (x < at)
    return inside


def rasterise_masks(masks, size: tuple[int, int]) -> np.ndarray:
    """(h, w) float32 visibility, top row first."""
    w, h = size
    visible = np.ones((h, w), np.float32)
    for mask in masks:
        inside = inside_polygon(mask.points, size)
        if mask.feather > 0:
            ramp = np.clip(distance_transform_edt(~inside) / (mask.feather * h), 0.0, 1.0)
        else:
            ramp = (~inside).astype(np.float32)
        visible = np.minimum(visible, ramp.astype(np.float32))
    return visible
