"""How the flagship demo looks, in numbers and pictures: render `symphony` at its defaults
(the README's demo: synthetic Alcove, seed 0, 30 fps, 10 s) and measure every frame.

    python tools/demo_look.py --size 640x360 --json                 # figures only
    python tools/demo_look.py --sheet sheet.png --json              # + a contact sheet (1,3,5,7,9 s)

Figures (medians over the demo's frames unless said): colourfulness (Hasler and Süsstrunk
2003: 15 "slightly", 33 "moderately", 45 "quite" colourful), mean brightness (0–255, luma),
lit fraction (pixels with luma > 8), clipped fraction (pixels with a channel at 255), and
flicker: the mean absolute per-pixel change between consecutive frames where the scene is
nearly at rest, relative to the mean brightness.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.offline import _frames  # noqa: E402

SHEET_SECONDS = (1, 3, 5, 7, 9)


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler–Süsstrunk colourfulness of an (h, w, 3) uint8 image."""
    r, g, b = (rgb[..., k].astype(np.float32) for k in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], np.float32)


def measure(scene: str, size: tuple[int, int], seconds: float, fps: float, source: str, seed: int,
            keep: tuple[int, ...] = ()) -> tuple[dict, dict[int, np.ndarray]]:
    count = int(round(seconds * fps))
    keep_frames = {int(round(s * fps)) - 1: s for s in keep}
    buf = np.empty((size[1], size[0], 4), np.uint8)
    colour, bright, lit, clipped, flicker = [], [], [], [], []
    kept: dict[int, np.ndarray] = {}
    prev = None
    for i, frame in enumerate(_frames(scene, count, size, fps, source, seed, lambda: buf)):
        rgb = frame[..., :3]
        y = luma(rgb)
        colour.append(colourfulness(rgb))
        bright.append(float(y.mean()))
        lit.append(float((y > 8).mean()))
        clipped.append(float((rgb == 255).any(axis=-1).mean()))
        if prev is not None:
            flicker.append(float(np.abs(y - prev).mean() / max(y.mean(), 1e-3)))
        prev = y
        if i in keep_frames:
            kept[keep_frames[i]] = rgb.copy()
    result = {
        "scene": scene, "size": f"{size[0]}x{size[1]}", "frames": count,
        "colourfulness_median": statistics.median(colour),
        "colourfulness_min": min(colour), "colourfulness_max": max(colour),
        "brightness_mean": statistics.fmean(bright),
        "lit_fraction_median": statistics.median(lit),
        "clipped_fraction_max": max(clipped),
        "frame_to_frame_change_median": statistics.median(flicker) if flicker else 0.0,
        "per_second": {f"{s}s": {"colourfulness": round(colour[int(s * fps) - 1], 1),
                                  "brightness": round(bright[int(s * fps) - 1], 1)}
                       for s in SHEET_SECONDS if int(s * fps) <= count},
    }
    return result, kept


def contact_sheet(frames: dict[int, np.ndarray], out: Path, label: str = "") -> None:
    """A row of the kept frames with their times, through ImageMagick's montage."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for s, rgb in sorted(frames.items()):
            p = Path(tmp) / f"{s:02d}.png"
            _write_png(p, rgb)
            paths.append(str(p))
        cmd = ["montage", "-background", "#202020", "-fill", "white", "-pointsize", "14"]
        font = _font()
        if font:
            cmd += ["-font", font]
        for s, p in zip(sorted(frames), paths, strict=True):
            cmd += ["-label", f"{label}{s} s", p]
        cmd += ["-tile", f"{len(paths)}x1", "-geometry", "+2+2", str(out)]
        subprocess.run(cmd, check=True)


def _font() -> str | None:
    """A TrueType font for the captions (ImageMagick's default may be missing)."""
    for p in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"):
        if Path(p).exists():
            return p
    return None


def _write_png(path: Path, rgb: np.ndarray) -> None:
    import av

    with av.open(str(path), "w", format="image2") as c:
        stream = c.add_stream("png")
        stream.width, stream.height = rgb.shape[1], rgb.shape[0]
        stream.pix_fmt = "rgb24"
        for pkt in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")):
            c.mux(pkt)
        for pkt in stream.encode():
            c.mux(pkt)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scene", default="symphony")
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--source", default="synthetic")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sheet", type=Path, help="write a contact sheet of the frames at 1, 3, 5, 7, 9 s")
    ap.add_argument("--frames-dir", type=Path, help="also save the sheet's frames as PNGs here")
    ap.add_argument("--label", default="", help="prefix for the sheet's captions")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    result, kept = measure(args.scene, (w, h), args.seconds, args.fps, args.source, args.seed,
                           SHEET_SECONDS if args.sheet or args.frames_dir else ())
    if args.sheet:
        contact_sheet(kept, args.sheet, args.label)
    if args.frames_dir:
        args.frames_dir.mkdir(parents=True, exist_ok=True)
        for s, rgb in kept.items():
            _write_png(args.frames_dir / f"{s:02d}s.png", rgb)
    print(json.dumps(result, indent=2) if args.json else
          f"colourfulness {result['colourfulness_median']:.1f}, brightness {result['brightness_mean']:.1f}, "
          f"lit {result['lit_fraction_median']:.3f}, clipped {result['clipped_fraction_max']:.4f}")


if __name__ == "__main__":
    main()
