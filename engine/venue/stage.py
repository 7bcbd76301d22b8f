"""The stage: a hidden main GL context where the scene is rendered once per distinct view.

Outputs that show the same thing (same layout, same region, same size) share one view image;
a region of the venue canvas is rendered with the camera's frustum cut off-axis to that part
of the canvas, plus a guard band of canvas around it (clamped to the canvas), so bloom and
other screen-space effects near a seam see the light just across it and neighbouring
outputs join seamlessly.
"""

from __future__ import annotations

import glfw
import moderngl
import numpy as np

from engine.outputs.mapped import Output, ViewImage, gl_hints
from engine.outputs.window import WindowError
from engine.render import Renderer
from engine.render.layouts import parse_layout
from engine.render.layouts.base import Offscreen
from engine.venue.config import Venue

Rect = tuple[int, int, int, int]


def guarded(region: Rect, canvas: tuple[int, int], guard: int) -> Rect:
    """The region grown by `guard` canvas pixels on each side, kept inside the canvas."""
    x, y, w, h = region
    x0, y0 = max(0, x - guard), max(0, y - guard)
    x1, y1 = min(canvas[0], x + w + guard), min(canvas[1], y + h + guard)
    return x0, y0, x1 - x0, y1 - y0


def region_projection(proj: np.ndarray, canvas: tuple[int, int], rect: Rect) -> np.ndarray:
    """The whole canvas's projection cut down to `rect` (canvas pixels, origin top-left): an
    off-axis frustum, so the rectangles of one canvas tile it exactly."""
    W, H = canvas
    x, y, w, h = rect
    nx0, nx1 = 2.0 * x / W - 1.0, 2.0 * (x + w) / W - 1.0
    ny0, ny1 = 1.0 - 2.0 * (y + h) / H, 1.0 - 2.0 * y / H  # bottom, top
    t = np.eye(4, dtype=np.float64)
    t[0, 0], t[3, 0] = 2.0 / (nx1 - nx0), -(nx0 + nx1) / (nx1 - nx0)
    t[1, 1], t[3, 1] = 2.0 / (ny1 - ny0), -(ny0 + ny1) / (ny1 - ny0)
    return (proj.astype(np.float64) @ t).astype(np.float32)  # row vectors: clip' = clip · t


class RegionLayout:
    """A flat camera whose frustum covers one rectangle of the venue canvas."""

    name = "region"

    def __init__(self, canvas: tuple[int, int], rect: Rect, view_index: int) -> None:
        self.canvas, self.rect, self.view_index = canvas, rect, view_index

    def render(self, renderer, scene, target: moderngl.Framebuffer, size: tuple[int, int],
               flip_y: bool) -> None:
        camera = scene.camera
        proj = region_projection(camera.projection(self.canvas[0] / self.canvas[1]), self.canvas, self.rect)
        renderer.render_view(scene, camera.view(), proj, target, (0, 0, size[0], size[1]), flip_y,
                             view_index=self.view_index)


class Stage:
    def __init__(self, venue: Venue) -> None:
        gl_hints(visible=False)
        self.handle = glfw.create_window(16, 16, "Symphony stage", None, None)
        if not self.handle:
            raise WindowError("could not create an OpenGL 3.3 context")
        glfw.make_context_current(self.handle)
        self.ctx = moderngl.create_context(require=330)
        self.renderer = Renderer(self.ctx, (16, 16))
        self.venue = venue
        self._views: dict[tuple, tuple[object, Offscreen]] = {}

    def view_key(self, output: Output) -> tuple:
        spec, venue = output.spec, self.venue
        if spec.region is not None:
            rect = guarded(spec.region, venue.canvas, venue.guard)
            return ("region", rect, spec.region)
        return (spec.layout, tuple(output.framebuffer_size))

    def _layout_and_image(self, key: tuple):
        entry = self._views.get(key)
        if entry is None:
            if key[0] == "region":
                layout = RegionLayout(self.venue.canvas, key[1], 1000 + len(self._views))
            else:
                layout = parse_layout(key[0])
            entry = self._views[key] = (layout, Offscreen("f1"))
        return entry

    def render(self, scene, outputs: list[Output]) -> dict[str, ViewImage]:
        """Upload the frame once, render each distinct view once; what each output shows."""
        glfw.make_context_current(self.handle)
        self.renderer.upload(scene)
        images: dict[tuple, ViewImage] = {}
        shown: dict[str, ViewImage] = {}
        for out in outputs:
            key = self.view_key(out)
            if key not in images:
                images[key] = self._render(scene, key)
            if images[key] is not None:
                shown[out.name] = images[key]
        self.ctx.finish()  # the outputs' contexts sample these textures next
        return shown

    def _render(self, scene, key: tuple) -> ViewImage | None:
        layout, image = self._layout_and_image(key)
        if key[0] == "region":
            _, (gx, gy, gw, gh), (x, y, w, h) = key
            size = (gw, gh)
            W, H = self.venue.canvas
            src = ((x - gx) / gw, (gy + gh - y) / gh, w / gw, -h / gh)
            canvas = (x / W, y / H, w / W, h / H)
        else:
            size = key[1]
            if min(size) < 2:  # a minimised window
                return None
            src, canvas = (0.0, 1.0, 1.0, -1.0), (0.0, 0.0, 1.0, 1.0)
        fbo = image.get(self.ctx, size)
        fbo.viewport = (0, 0, *size)
        layout.render(self.renderer, scene, fbo, size, False)
        aspect = self.venue.canvas[0] / self.venue.canvas[1] if key[0] == "region" else size[0] / size[1]
        return ViewImage(image.texture.glo, size, src, canvas, aspect)

    def pattern_view(self, output: Output) -> ViewImage:
        """No texture, only where the output sits on the canvas: patterns are drawn there."""
        region, canvas = output.spec.region, self.venue.canvas
        if region is None:
            w, h = output.framebuffer_size
            return ViewImage(0, (1, 1), (0.0, 1.0, 1.0, -1.0), (0.0, 0.0, 1.0, 1.0), w / max(h, 1))
        x, y, w, h = region
        return ViewImage(0, (1, 1), (0.0, 1.0, 1.0, -1.0),
                         (x / canvas[0], y / canvas[1], w / canvas[0], h / canvas[1]),
                         canvas[0] / canvas[1])

    def close(self) -> None:
        glfw.destroy_window(self.handle)
