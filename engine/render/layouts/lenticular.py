"""Lenticular panels: `lenticular:CALIBRATION.json[,quilt=8x6][,size=3360x3360][,cone=DEG]`.

A quilt is rendered offscreen, then each output subpixel takes its colour channel from the
view its lens sends towards the viewer (classic Looking Glass-style panels; see
shared/notes/holographic-displays.md). Implemented from the published mathematics only:

    pitch' = pitch · (screenW / DPI) · cos(atan(1 / slope))
    tilt   = screenH / (screenW · slope)        (negated when flipImageX)
    subp   = 1 / (3 · screenW)
    phase  = fract((u + c·subp + v·tilt) · pitch' − center),  1 − phase when invView
    view   = floor(phase · N)                   (u, v: 0..1 from the bottom-left; c: channel)

flipImageX/flipImageY mirror the picture sampled from every view; flipSubp reverses the
subpixel order (BGR panels). The output should be the panel's native screenW × screenH.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import moderngl

from engine.paths import asset_dir
from engine.render.layouts.base import LayoutError, Offscreen, Options, Pass, parse_grid
from engine.render.layouts.quilt import QuiltLayout

_KEYS = {"pitch": "pitch", "slope": "slope", "center": "center", "dpi": "DPI",
         "screen_w": "screenW", "screen_h": "screenH"}
_OPTIONAL = {"view_cone": ("viewCone", 40.0), "inv_view": ("invView", 1.0),
             "flip_x": ("flipImageX", 0.0), "flip_y": ("flipImageY", 0.0),
             "flip_subp": ("flipSubp", 0.0)}


@dataclass(frozen=True)
class Calibration:
    """One panel's calibration (its `visual.json`: values plain or as {"value": x})."""

    pitch: float
    slope: float
    center: float
    dpi: float
    screen_w: float
    screen_h: float
    view_cone: float = 40.0
    inv_view: float = 1.0
    flip_x: float = 0.0
    flip_y: float = 0.0
    flip_subp: float = 0.0

    @classmethod
    def from_dict(cls, data: dict, where: str = "calibration") -> Calibration:
        def value(key: str, default: float | None = None) -> float:
            raw = data.get(key, default)
            if isinstance(raw, dict):
                raw = raw.get("value")
            if raw is None:
                raise LayoutError(f"{where}: missing '{key}'")
            try:
                return float(raw)
            except (TypeError, ValueError):
                raise LayoutError(f"{where}: '{key}' must be a number, got {raw!r}") from None

        fields = {name: value(key) for name, key in _KEYS.items()}
        fields.update({name: value(key, d) for name, (key, d) in _OPTIONAL.items()})
        cal = cls(**fields)
        if cal.slope == 0 or cal.dpi <= 0 or cal.screen_w < 1 or cal.screen_h < 1:
            raise LayoutError(f"{where}: slope must be non-zero, DPI and screen size positive")
        return cal

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        found = resolve_calibration(path)
        try:
            data = json.loads(found.read_text())
        except (OSError, ValueError) as exc:
            raise LayoutError(f"cannot read calibration {path}: {exc}") from None
        if not isinstance(data, dict):
            raise LayoutError(f"calibration {path}: expected a JSON object")
        return cls.from_dict(data, found.name)

    @property
    def derived(self) -> tuple[float, float, float]:
        """(pitch', tilt, subp) in output-UV units."""
        pitch = self.pitch * (self.screen_w / self.dpi) * math.cos(math.atan(1.0 / self.slope))
        tilt = self.screen_h / (self.screen_w * self.slope)
        return pitch, -tilt if self.flip_x else tilt, 1.0 / (3.0 * self.screen_w)


def resolve_calibration(path: str | Path) -> Path:
    """A path as given, else a file of that name in `assets/`."""
    p = Path(path).expanduser()
    for candidate in (p, asset_dir() / p):
        if candidate.is_file():
            return candidate
    raise LayoutError(f"calibration file not found: {path} (nor in {asset_dir()})")


class LenticularLayout:
    name = "lenticular"

    def __init__(self, calibration: Calibration, cols: int = 8, rows: int = 6,
                 quilt_size: tuple[int, int] = (3360, 3360), cone: float | None = None,
                 aspect: float | None = None) -> None:
        self.calibration = calibration
        self.quilt_size = quilt_size
        self.quilt = QuiltLayout(cols, rows, calibration.view_cone if cone is None else cone,
                                 aspect or calibration.screen_w / calibration.screen_h)
        self.quilt.tile_size(quilt_size)  # fail early on too many tiles
        self.image = Offscreen("f1")
        self.interleave_pass = Pass("layout_lenticular.glsl")

    @classmethod
    def from_spec(cls, spec: str) -> LenticularLayout:
        opts = Options(spec, ("quilt", "size", "cone", "aspect"), positional=1)
        if not opts.words:
            raise LayoutError(f"layout '{spec}': expected lenticular:CALIBRATION.json")
        cols, rows = parse_grid(opts.named.get("quilt", "8x6"), spec)
        size = parse_grid(opts.named.get("size", "3360x3360"), spec, "WxH")
        return cls(Calibration.load(opts.words[0]), cols, rows, size,
                   opts.number("cone", None, 0.0, 170.0), opts.number("aspect", None, 0.01, 100.0))

    def render(self, renderer, scene, target: moderngl.Framebuffer, size: tuple[int, int],
               flip_y: bool) -> None:
        fbo = self.image.get(renderer.ctx, self.quilt_size)
        self.quilt.render(renderer, scene, fbo, self.quilt_size, False)
        self.interleave(renderer, self.image.texture, target, size, flip_y)

    def interleave(self, renderer, quilt: moderngl.Texture, target: moderngl.Framebuffer,
                   size: tuple[int, int], flip_y: bool) -> None:
        """Interleave a quilt texture (bottom-left origin, this layout's tiles) into `target`."""
        cal, q = self.calibration, self.quilt
        pitch, tilt, subp = cal.derived
        tw, th = q.tile_size(quilt.size)
        p = self.interleave_pass.bind(renderer)
        quilt.use(0)
        for name, value in (
            ("u_quilt", 0), ("u_tiles", (q.cols, q.rows)), ("u_portion", q.view_portion(quilt.size)),
            ("u_inset", (0.5 / tw, 0.5 / th)), ("u_pitch", pitch), ("u_tilt", tilt),
            ("u_subp", subp), ("u_center", cal.center), ("u_inv_view", int(bool(cal.inv_view))),
            ("u_flip_image", (int(bool(cal.flip_x)), int(bool(cal.flip_y)))),
            ("u_flip_subp", int(bool(cal.flip_subp))), ("u_flip_y", int(flip_y)),
        ):
            p.set(name, value)
        p.draw(target, (0, 0, size[0], size[1]))
