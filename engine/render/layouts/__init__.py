"""Output layouts: which views of the scene to draw, and how to arrange them on the output.

A layout gets the renderer, the scene, the output framebuffer and its size, and calls
`renderer.render_view(scene, view, proj, target, viewport, flip_y)` once per view (into the
target directly, or into a cached offscreen image it then assembles with a `layout_*.glsl`
pass). Specs, as given to `--layout`:

    flat                                      one camera (default)
    pyramid                                   Pepper's-ghost cross: front, right, back, left
    quilt:COLSxROWS[,cone=35][,aspect=A]      light-field quilt, view 0 bottom-left
    lenticular:CAL.json[,quilt=8x6][,size=3360x3360][,cone=DEG][,aspect=A]
    sbs[:eye=0.064][,scale=U][,squeeze=1]     off-axis stereo side by side
    anaglyph[:eye=0.064][,scale=U]            red–cyan (Dubois)
"""

from __future__ import annotations

from typing import Protocol

import moderngl

from engine.render.layouts.base import LayoutError
from engine.render.layouts.lenticular import Calibration, LenticularLayout
from engine.render.layouts.quilt import QuiltLayout
from engine.render.layouts.stereo import AnaglyphLayout, SideBySideLayout
from engine.render.layouts.views import FlatLayout, PyramidLayout


class Layout(Protocol):
    name: str

    def render(self, renderer, scene, target: moderngl.Framebuffer, size: tuple[int, int],
               flip_y: bool) -> None: ...


LAYOUTS = {
    "flat": FlatLayout,
    "pyramid": PyramidLayout,
    "quilt": QuiltLayout,
    "lenticular": LenticularLayout,
    "sbs": SideBySideLayout,
    "anaglyph": AnaglyphLayout,
}


def parse_layout(spec: str | Layout | None) -> Layout:
    """A layout from its spec (see the module docstring); a layout object passes through."""
    if spec is None:
        return FlatLayout()
    if not isinstance(spec, str):
        return spec
    kind = spec.partition(":")[0].strip().lower()
    if kind not in LAYOUTS:
        raise LayoutError(f"unknown layout '{spec}' (layouts: {', '.join(LAYOUTS)})")
    return LAYOUTS[kind].from_spec(spec)


__all__ = [
    "LAYOUTS", "AnaglyphLayout", "Calibration", "FlatLayout", "Layout", "LayoutError",
    "LenticularLayout", "PyramidLayout", "QuiltLayout", "SideBySideLayout", "parse_layout",
]
