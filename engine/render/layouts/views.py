"""Single-camera layouts: `flat`, and the Pepper's-ghost `pyramid` cross."""

from __future__ import annotations

import dataclasses

import moderngl

from engine.render.layouts.base import LayoutError, Offscreen, Options, Pass, clear_black, gl_rect


class FlatLayout:
    """One camera, the whole output."""

    name = "flat"

    @classmethod
    def from_spec(cls, spec: str) -> FlatLayout:
        Options(spec, ())
        return cls()

    def render(self, renderer, scene, target: moderngl.Framebuffer, size: tuple[int, int],
               flip_y: bool) -> None:
        view = scene.camera.view()
        proj = scene.camera.projection(size[0] / size[1])
        renderer.render_view(scene, view, proj, target, (0, 0, size[0], size[1]), flip_y)


# (name, azimuth added to the camera's, tile column and row in the 3×3 grid from the bottom-left,
#  counter-clockwise quarter turns): every tile's "up" points away from the centre, so each
#  face of the pyramid reflects an upright image. Seen from above, the layout is a map of the
#  scene: the right view (camera on the scene's +x side) sits on the right, and so on.
PYRAMID_VIEWS = (
    ("front", 0.0, 1, 2, 0),
    ("right", 90.0, 2, 1, 3),
    ("back", 180.0, 1, 0, 2),
    ("left", 270.0, 0, 1, 1),
)


class PyramidLayout:
    """Four views in a cross on black around an empty centre, for a Pepper's-ghost pyramid.

    Each view is drawn upright into a square offscreen image and copied rotated into its tile
    (a texel-exact quarter turn), so screen-space effects turn with their view too.
    """

    name = "pyramid"

    def __init__(self) -> None:
        self.image = Offscreen("f1", nearest=True)
        self.blit = Pass("layout_blit.glsl")

    @classmethod
    def from_spec(cls, spec: str) -> PyramidLayout:
        Options(spec, ())
        return cls()

    @staticmethod
    def tiles(size: tuple[int, int]) -> tuple[int, list[tuple[str, float, int, int, int]]]:
        """The square side and, per view, (name, azimuth offset, x, y from bottom-left, turns)."""
        w, h = size
        side = min(w, h) // 3
        if side < 2:
            raise LayoutError(f"pyramid: output {w}x{h} is too small")
        x0, y0 = (w - 3 * side) // 2, (h - 3 * side) // 2
        return side, [(n, az, x0 + c * side, y0 + r * side, t) for n, az, c, r, t in PYRAMID_VIEWS]

    def render(self, renderer, scene, target: moderngl.Framebuffer, size: tuple[int, int],
               flip_y: bool) -> None:
        ctx = renderer.ctx
        side, tiles = self.tiles(size)
        image = self.image.get(ctx, (side, side))
        blit = self.blit.bind(renderer)
        clear_black(target)
        for k, (_, d_az, x, y, turns) in enumerate(tiles):
            camera = dataclasses.replace(scene.camera, azimuth=(scene.camera.azimuth + d_az) % 360.0)
            renderer.render_view(scene, camera.view(), camera.projection(1.0), image,
                                 (0, 0, side, side), False, view_index=k)
            rect = gl_rect(x, y, side, side, size[1], flip_y)
            self.image.texture.use(0)
            for name, value in (("u_source", 0), ("u_origin", rect[:2]), ("u_turns", turns),
                                ("u_flip_y", int(flip_y))):
                blit.set(name, value)
            blit.draw(target, rect)
