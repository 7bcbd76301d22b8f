"""Which file format a render writes, chosen by the output's suffix (and `--codec`).

The formats editors and compositors take, all through PyAV's bundled FFmpeg:

| output | codec | pixels | for |
|---|---|---|---|
| `.mp4` | H.264 (`--codec h264`, default) or HEVC (`--codec hevc`) | yuv420p | the web, players |
| `.mov` | ProRes 4444 (`prores_ks`, profile 4) | yuva444p10le, alpha | compositing over footage |
| `.mkv` | FFV1 (lossless) | bgr0 | archives; decodes bit-exact |
| `DIR/%05d.png` | PNG frames | rgba | stills, any tool |

ProRes alpha: black is transparent, as holographic foils treat it. The image is light added
to black, so alpha = the brightest channel and the colour is stored un-premultiplied; laid
"over" other footage with straight alpha it adds its light exactly as a projector would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class FormatError(ValueError):
    """The output name and codec do not make a format; one line for the user."""


@dataclass(frozen=True)
class Format:
    name: str
    container: str | None  # FFmpeg muxer; None for PNG sequences (one file a frame)
    codec: str
    pix_fmt: str
    alpha: bool = False
    lossless: bool = False
    options: dict[str, str] = field(default_factory=dict)
    uses_crf: bool = False
    even_size: bool = False  # 4:2:0 chroma needs even width and height


H264 = Format("H.264", "mp4", "libx264", "yuv420p", uses_crf=True, even_size=True)
HEVC = Format("HEVC", "mp4", "libx265", "yuv420p", uses_crf=True, even_size=True,
              options={"x265-params": "log-level=error"})
PRORES = Format("ProRes 4444", "mov", "prores_ks", "yuva444p10le", alpha=True,
                options={"profile": "4", "vendor": "apl0"})
FFV1 = Format("FFV1", "matroska", "ffv1", "bgr0", lossless=True, options={"level": "3"})
PNG = Format("PNG", None, "png", "rgba", alpha=False, lossless=True)

BY_SUFFIX: dict[str, dict[str, Format]] = {
    ".mp4": {"h264": H264, "hevc": HEVC},
    ".mov": {"prores": PRORES},
    ".mkv": {"ffv1": FFV1},
    ".png": {"png": PNG},
}
CODECS = sorted({c for table in BY_SUFFIX.values() for c in table})


def choose_format(path: str | Path, codec: str | None = None) -> Format:
    """The format for `path`: by suffix, then `codec` among those the suffix allows."""
    path = Path(path)
    suffix = path.suffix.lower()
    table = BY_SUFFIX.get(suffix)
    if table is None:
        raise FormatError(
            f"cannot write '{path.name}': unknown suffix '{suffix or '(none)'}'; use .mp4 (H.264, HEVC), "
            ".mov (ProRes 4444 with alpha), .mkv (FFV1 lossless) or frames/%05d.png")
    if suffix == ".png" and not is_sequence(path):
        raise FormatError(f"PNG frames need a numbered name such as frames/%05d.png, got '{path.name}'")
    if codec is None:
        return next(iter(table.values()))
    fmt = table.get(codec.lower())
    if fmt is None:
        raise FormatError(f"codec '{codec}' does not go in a {suffix} file; choose one of "
                          f"{', '.join(table)} (or another suffix: {', '.join(BY_SUFFIX)})")
    return fmt


def is_sequence(path: str | Path) -> bool:
    """A printf-style frame number in the name: `%05d`, `%d`."""
    name = Path(path).name
    try:
        return (name % 1) != (name % 2)
    except (TypeError, ValueError):
        return False
