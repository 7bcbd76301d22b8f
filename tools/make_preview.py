"""The README's pictures of the flagship demo, made by the engine: one command regenerates both.

    python tools/make_preview.py            # docs/symphony.png and docs/symphony.webp

`symphony` at its defaults (the README's demo: synthetic Alcove, seed 0): a 1280×720 still at
the braid (6.5 s) and a 480×270 animated WebP of the whole ten seconds at 15 fps (every other
frame of the 30 fps render), lossy, about 1.2 MB.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.offline import render_array  # noqa: E402


def write_still(path: Path, rgb: np.ndarray) -> None:
    with av.open(str(path), "w", format="image2") as c:
        stream = c.add_stream("png")
        stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "rgb24"
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        for pkt in [*stream.encode(frame), *stream.encode()]:
            c.mux(pkt)


def write_webp(path: Path, frames: np.ndarray, fps: int, quality: int) -> None:
    """An endlessly looping animated WebP through libwebp."""
    with av.open(str(path), "w", format="webp", options={"loop": "0"}) as c:
        stream = c.add_stream("libwebp_anim", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = {"quality": str(quality), "lossless": "0"}
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            for pkt in stream.encode(frame):
                c.mux(pkt)
        for pkt in stream.encode():
            c.mux(pkt)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    ap.add_argument("--still-at", type=float, default=6.5, help="seconds into the demo")
    ap.add_argument("--quality", type=int, default=35, help="WebP quality 0-100")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    still_frame = int(round(args.still_at * 30))
    still = render_array("symphony", still_frame, (1280, 720), 30.0, "synthetic", 0)[-1, ..., :3]
    write_still(args.out / "symphony.png", still)
    clip = render_array("symphony", 300, (480, 270), 30.0, "synthetic", 0)[1::2, ..., :3]
    write_webp(args.out / "symphony.webp", clip, 15, args.quality)
    for name in ("symphony.png", "symphony.webp"):
        print(f"{args.out / name}: {(args.out / name).stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
