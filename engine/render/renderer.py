"""The renderer: layers into an HDR target, bloom, tone map, into an output framebuffer.

It owns every GPU object; scenes and layers never touch the GL context. The same renderer
drives a window (target = the window's framebuffer) or an offscreen RGBA8 image that is read
back into preallocated numpy buffers for video files and tests.
"""

from __future__ import annotations

import moderngl
import numpy as np

from engine.render.drawers import DRAWERS
from engine.render.post import Bloom, Composite


def headless_context() -> moderngl.Context:
    """An OpenGL 3.3+ context with no window: EGL (a GPU, or Mesa's llvmpipe on a CPU)."""
    try:
        return moderngl.create_standalone_context(backend="egl", require=330)
    except Exception as egl_error:  # noqa: BLE001 - report both attempts below
        try:
            return moderngl.create_standalone_context(require=330)
        except Exception:  # noqa: BLE001
            raise RuntimeError(
                f"no headless OpenGL 3.3 context (EGL: {egl_error}); on Debian install "
                "libegl1 and libgl1-mesa-dri"
            ) from None


class Renderer:
    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        self.ctx = ctx
        self.composite = Composite(ctx)
        self._drawers: dict[int, object] = {}
        self._bloom_levels = 0
        self.size = (0, 0)
        self.resize(size)

    @property
    def renderer_name(self) -> str:
        return self.ctx.info.get("GL_RENDERER", "unknown")

    def resize(self, size: tuple[int, int]) -> None:
        if tuple(size) == self.size:
            return
        w, h = int(size[0]), int(size[1])
        if w < 2 or h < 2:
            raise ValueError("render size must be at least 2x2")
        self.size = (w, h)
        ctx = self.ctx
        self.hdr = ctx.texture((w, h), 4, dtype="f2")
        self.hdr.repeat_x = self.hdr.repeat_y = False
        self.hdr_fbo = ctx.framebuffer([self.hdr])
        self.output = ctx.texture((w, h), 4, dtype="f1")
        self.output_fbo = ctx.framebuffer([self.output])
        self.bloom: Bloom | None = None

    def _drawer(self, layer):
        d = self._drawers.get(id(layer))
        if d is None or d.layer is not layer:
            d = self._drawers[id(layer)] = DRAWERS[type(layer)](self.ctx, layer)
        return d

    def render(self, scene, target: moderngl.Framebuffer | None = None, flip_y: bool = False) -> None:
        """Draw the scene's layers and post-process into `target` (default: the offscreen output).

        flip_y puts the top row first in memory, as video encoders and image files expect.
        """
        ctx, post = self.ctx, scene.post
        if self.bloom is None or self._bloom_levels != post.bloom_levels:
            self.bloom = Bloom(ctx, self.size, post.bloom_levels)
            self._bloom_levels = post.bloom_levels
        self.hdr_fbo.use()
        self.hdr_fbo.clear(*scene.background, 0.0)
        ctx.enable(moderngl.BLEND | moderngl.PROGRAM_POINT_SIZE)
        ctx.blend_func = moderngl.ONE, moderngl.ONE  # light adds up: additive blending
        aspect = self.size[0] / self.size[1]
        view, proj = scene.camera.view(), scene.camera.projection(aspect)
        for layer in scene.layers:
            if layer.visible:
                self._drawer(layer).draw(view, proj, self.size)
        self.bloom.run(self.hdr, post)
        out = target or self.output_fbo
        self.composite.run(self.hdr, self.bloom.result, post, out, flip_y)

    def read_into(self, buffer: np.ndarray) -> np.ndarray:
        """Copy the offscreen output (RGBA8) into a preallocated (h, w, 4) uint8 array."""
        self.output_fbo.read_into(buffer, components=4)
        return buffer

    def new_frame_buffer(self) -> np.ndarray:
        return np.empty((self.size[1], self.size[0], 4), np.uint8)
