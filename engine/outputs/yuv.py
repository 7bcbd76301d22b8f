"""yuv420p frames straight from GL: passes over the renderer's RGBA8 output write the Y, U
and V planes, read back into the encoder's buffer.

Why: at 1080p, H.264's RGBA → yuv420p conversion (libswscale, on the encoder thread) costs
8-13 ms a frame and the RGBA read back moves 8 MB; the read back of planes moves 3 MB. The
passes convert as libswscale does (BT.601 limited range, its chroma filter), so files match
the RGBA path within a level or two.
"""

from __future__ import annotations

import moderngl
import numpy as np

from engine.render.shaders import BoundVao


class YuvPass:
    """Reads a renderer's output as yuv420p planes: a (3h/2, w) uint8 array, as PyAV's
    `VideoFrame.from_ndarray(..., format="yuv420p")` takes it."""

    def __init__(self, renderer) -> None:
        self.renderer = renderer
        shaders = renderer.shaders
        self.luma = BoundVao(shaders.get("yuv420p.glsl", {"LUMA": 1}), [])
        self.chroma = BoundVao(shaders.get("yuv420p.glsl"), [])
        self.size = (0, 0)
        self._gl: list = []
        self.sampler = renderer.ctx.sampler(filter=(moderngl.LINEAR, moderngl.LINEAR),
                                            repeat_x=False, repeat_y=False)

    def _resize(self, size: tuple[int, int]) -> None:
        if size == self.size:
            return
        w, h = size
        if not fits(size):
            raise ValueError("yuv420p planes from GL need a width divisible by 8 and an even height")
        for obj in self._gl:
            obj.release()
        ctx = self.renderer.ctx
        y = ctx.texture((w // 4, h), 4, dtype="f1")  # four plane bytes a texel
        u, v = (ctx.texture((w // 8, h // 2), 4, dtype="f1") for _ in range(2))
        self.y_fbo, self.uv_fbo = ctx.framebuffer([y]), ctx.framebuffer([u, v])
        self._gl = [self.y_fbo, self.uv_fbo, y, u, v]
        self.size = size

    def read_into(self, buffer: np.ndarray) -> np.ndarray:
        """Convert the output rendered last (with flip_y) and copy its planes into `buffer`."""
        w, h = size = self.renderer.size
        self._resize(size)
        ctx = self.renderer.ctx
        ctx.disable(moderngl.BLEND)  # every value is written, not added
        self.renderer.output.use(0)
        self.sampler.use(0)
        self.luma.program["u_rgba"].value = 0
        self.y_fbo.use()
        self.luma.get().render(moderngl.TRIANGLES, vertices=3)
        prog = self.chroma.program
        prog["u_rgba"].value = 0
        prog["u_texel"].value = (1.0 / w, 1.0 / h)
        self.uv_fbo.use()
        self.chroma.get().render(moderngl.TRIANGLES, vertices=3)
        self.sampler.clear(0)
        flat = buffer.reshape(-1)
        quarter = w * h // 4
        self.y_fbo.read_into(flat[: w * h], components=4, alignment=1)
        self.uv_fbo.read_into(flat[w * h: w * h + quarter], components=4, attachment=0, alignment=1)
        self.uv_fbo.read_into(flat[w * h + quarter:], components=4, attachment=1, alignment=1)
        return buffer


def fits(size: tuple[int, int]) -> bool:
    """Sizes the passes handle: four Y or U/V bytes per RGBA8 texel."""
    return size[0] % 8 == 0 and size[1] % 2 == 0


def read_frame(renderer, planes: YuvPass | None, buffer: np.ndarray) -> np.ndarray:
    """Fill `buffer` from the last rendered frame: RGBA (h, w, 4), or yuv420p planes (3h/2, w)."""
    if buffer.ndim == 2:
        return planes.read_into(buffer)
    return renderer.read_into(buffer)
