"""Master and blackout at the output stage: one blended full-screen triangle per output, after
its mapping, so every output (and only the outputs, not the console) dims together."""

from __future__ import annotations

import moderngl
import numpy as np

from engine.render.shaders import BoundVao, ShaderCache


class Dimmer:
    def __init__(self, ctx: moderngl.Context, shaders: ShaderCache) -> None:
        self.ctx = ctx
        self.vao = BoundVao(shaders.get("output_dim.glsl"), [])

    def draw(self, target: moderngl.Framebuffer, gain: float) -> None:
        if gain >= 1.0:
            return
        target.use()
        self.vao.program["u_gain"].value = max(gain, 0.0)
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        self.vao.get().render(moderngl.TRIANGLES, vertices=3)
        self.ctx.disable(moderngl.BLEND)


def dim_into(pixels: np.ndarray, gain: float) -> np.ndarray:
    """The same on a read-back image, in place (show replays): RGB × gain, alpha kept."""
    if gain < 1.0:
        pixels[..., :3] = np.round(pixels[..., :3].astype(np.float32) * max(gain, 0.0)).astype(np.uint8)
    return pixels
