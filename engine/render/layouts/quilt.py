"""Light-field quilts: `quilt:COLSxROWS[,cone=35][,aspect=A]`.

View 0 is the bottom-left tile and the leftmost camera; views run left to right along a row,
rows run bottom to top (view i at column i mod cols, row i // cols from the bottom). Camera
i slides sideways by distance · tan((i/(N−1) − 0.5) · cone) with a sheared frustum, so all
views share the focal plane through the camera's target: no toe-in, no vertical parallax.
Tiles are floor(W/cols) × floor(H/rows); leftover pixels at the right and top stay black.
"""

from __future__ import annotations

from dataclasses import dataclass

import moderngl

from engine.render.layouts.base import LayoutError, Options, clear_black, gl_rect, parse_grid

DEFAULT_CONE = 35.0


@dataclass
class QuiltLayout:
    cols: int
    rows: int
    cone: float = DEFAULT_CONE  # degrees, the whole fan of cameras
    aspect: float | None = None  # width / height of one view; default: the tile's own

    name = "quilt"

    @classmethod
    def from_spec(cls, spec: str) -> QuiltLayout:
        opts = Options(spec, ("cone", "aspect"), positional=1)
        if not opts.words:
            raise LayoutError(f"layout '{spec}': expected quilt:COLSxROWS, e.g. quilt:8x6")
        cols, rows = parse_grid(opts.words[0], spec)
        return cls(cols, rows, opts.number("cone", DEFAULT_CONE, 0.0, 170.0),
                   opts.number("aspect", None, 0.01, 100.0))

    @property
    def views(self) -> int:
        return self.cols * self.rows

    def tile_size(self, size: tuple[int, int]) -> tuple[int, int]:
        tw, th = size[0] // self.cols, size[1] // self.rows
        if tw < 2 or th < 2:
            raise LayoutError(f"quilt {self.cols}x{self.rows}: output {size[0]}x{size[1]} is too "
                              "small (tiles need at least 2x2 pixels)")
        return tw, th

    def view_portion(self, size: tuple[int, int]) -> tuple[float, float]:
        """The part of the image the tiles cover (1, 1 when the quilt divides evenly)."""
        tw, th = self.tile_size(size)
        return self.cols * tw / size[0], self.rows * th / size[1]

    def tile_origin(self, i: int, size: tuple[int, int]) -> tuple[int, int]:
        """View i's lower-left pixel, counted from the picture's bottom-left."""
        tw, th = self.tile_size(size)
        return (i % self.cols) * tw, (i // self.cols) * th

    def suffix(self, size: tuple[int, int]) -> str:
        """The `_qs{cols}x{rows}a{aspect}` file-name tag players use to read a quilt."""
        tw, th = self.tile_size(size)
        return f"_qs{self.cols}x{self.rows}a{round(self.aspect or tw / th, 4):g}"

    def render(self, renderer, scene, target: moderngl.Framebuffer, size: tuple[int, int],
               flip_y: bool) -> None:
        tw, th = self.tile_size(size)
        if self.cols * tw != size[0] or self.rows * th != size[1]:
            clear_black(target)
        camera = scene.camera
        aspect = self.aspect or tw / th
        for i, offset in enumerate(camera.cone_offsets(self.views, self.cone)):
            view, proj = camera.shifted(float(offset), aspect)
            x, y = self.tile_origin(i, size)
            renderer.render_view(scene, view, proj, target, gl_rect(x, y, tw, th, size[1], flip_y),
                                 flip_y, view_index=i)
