"""PNG files through Pillow, for screenshots and reference images: uint8 arrays, top row first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def save_png(path: str | Path, rgba: np.ndarray) -> None:
    """Save an (h, w, 3|4) uint8 array, top row first."""
    img = np.ascontiguousarray(rgba, dtype=np.uint8)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"a PNG needs an (h, w, 3 or 4) array, not {img.shape}")
    Image.fromarray(img, "RGBA" if img.shape[2] == 4 else "RGB").save(Path(path), format="PNG")


def load_png(path: str | Path) -> np.ndarray:
    """An (h, w, 3|4) uint8 array of an 8-bit RGB or RGBA PNG (other modes are converted)."""
    with Image.open(Path(path)) as im:
        if im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else "RGB")
        return np.array(im)
