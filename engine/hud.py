"""The operator's heads-up display: status and errors drawn over the live output.

Text is rasterised with Pillow into an RGBA image only when it changes, uploaded as a
texture, and alpha-blended over the window after the scene is composited (never into
recordings or the video path).
"""

from __future__ import annotations

import moderngl
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.render.shaders import BoundVao, ShaderCache

STATUS = (200, 230, 255, 230)
ERROR = (255, 110, 110, 255)


class Hud:
    def __init__(self, ctx: moderngl.Context, shaders: ShaderCache) -> None:
        self.ctx = ctx
        self.handle = shaders.get("hud.glsl")
        self.vao = BoundVao(self.handle, [])
        self.font = ImageFont.load_default()
        self.visible = True
        self._key: tuple | None = None
        self._texture: moderngl.Texture | None = None

    def _rasterise(self, size: tuple[int, int], status: str, errors: list[str]) -> None:
        w, h = size
        img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(img)
        line = 14
        draw.rectangle((0, 0, w, line + 6), fill=(0, 0, 0, 140))
        draw.text((6, 3), status, font=self.font, fill=STATUS)
        wrapped = [e[i:i + max(20, w // 7)] for e in errors[-4:] for i in range(0, len(e), max(20, w // 7))]
        if wrapped:
            top = h - line * len(wrapped) - 10
            draw.rectangle((0, top - 4, w, h), fill=(40, 0, 0, 190))
            for k, text in enumerate(wrapped):
                draw.text((6, top + k * line), text, font=self.font, fill=ERROR)
        data = np.asarray(img)[::-1].copy()  # GL textures start at the bottom row
        if self._texture is None or self._texture.size != (w, h):
            if self._texture is not None:
                self._texture.release()
            self._texture = self.ctx.texture((w, h), 4, dtype="f1")
        self._texture.write(data)

    def draw(self, target: moderngl.Framebuffer, status: str, errors: list[str]) -> None:
        if not self.visible:
            return
        size = (target.viewport[2], target.viewport[3])
        key = (size, status, tuple(errors[-4:]))
        if key != self._key:
            self._rasterise(size, status, errors)
            self._key = key
        target.use()
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        self._texture.use(0)
        self.handle.program["u_overlay"].value = 0
        self.vao.get().render(moderngl.TRIANGLES, vertices=3)
        self.ctx.disable(moderngl.BLEND)
