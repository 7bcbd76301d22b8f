"""PNG writing with zlib alone, for screenshots and reference images (no imaging library)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def save_png(path: str | Path, rgba: np.ndarray) -> None:
    """Save an (h, w, 3|4) uint8 array, top row first."""
    img = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w, c = img.shape
    color_type = {3: 2, 4: 6}[c]
    raw = np.zeros((h, 1 + w * c), np.uint8)  # filter byte 0 per row
    raw[:, 1:] = img.reshape(h, w * c)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                           + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + chunk(b"IEND", b""))


def load_png(path: str | Path) -> np.ndarray:
    """Read back a PNG written by `save_png` (8-bit RGB/RGBA, no interlace, filter 0)."""
    data = Path(path).read_bytes()
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if tag == b"IHDR":
            w, h, _, color_type = struct.unpack(">IIBB", body[:10])
            c = {2: 3, 6: 4}[color_type]
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c)
    if raw[:, 0].any():
        raise ValueError("only unfiltered PNG rows are supported")
    return raw[:, 1:].reshape(h, w, c).copy()
