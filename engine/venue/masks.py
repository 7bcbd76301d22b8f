"""Output masks rasterised once per size: 0 inside each polygon, ramping to 1 over the feather.

A mask hides what must not land on a surface (a doorway, a pillar, a face): inside a polygon
the output is exactly black; outside, the light comes back over `feather` (a fraction of the
output's height) so the edge is soft without ever lighting the inside.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import distance_transform_edt


def rasterise_masks(masks, size: tuple[int, int]) -> np.ndarray:
    """(h, w) float32 visibility, top row first."""
    w, h = size
    visible = np.ones((h, w), np.float32)
    for mask in masks:
        img = Image.new("L", (w, h), 0)
        ImageDraw.Draw(img).polygon([(x * w - 0.5, y * h - 0.5) for x, y in mask.points], fill=255)
        inside = np.asarray(img) > 0
        if mask.feather > 0:
            ramp = np.clip(distance_transform_edt(~inside) / (mask.feather * h), 0.0, 1.0)
        else:
            ramp = (~inside).astype(np.float32)
        visible = np.minimum(visible, ramp.astype(np.float32))
    return visible
