"""The operator's heads-up display: status and errors drawn over the live output.

Text is rasterised with Pillow into two small textures (the status strip at the top, the
error box at the bottom), never a full-screen image: the status line is redrawn at most
four times a second, errors as soon as they change; each frame only blends the two strips
(well under a millisecond even on software GL). Drawn after the scene is composited, never
into recordings or the video path; a show with an operator console draws none.
"""

from __future__ import annotations

import time

import moderngl
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.render.shaders import BoundVao, ShaderCache

STATUS = (200, 230, 255, 230)
ERROR = (255, 110, 110, 255)
LINE = 14
STATUS_EVERY = 0.25  # seconds between status redraws


def source_alarms(source: object) -> list[str]:
    """Sources that gave up for good (refused login, TLS mismatch): the operator must see them
    for as long as the show runs, not for the one frame the error was raised in. A failover's
    live source counts too (the fallback keeps the audience fed, the operator still fixes it)."""
    out = []
    for src in (source, getattr(source, "live", None)):
        fatal = getattr(src, "fatal", "") if src is not None else ""
        if fatal:
            out.append(f"source {getattr(src, 'kind', '?')} FAILED: {fatal} (fix it and restart the show)")
    return out


class _Strip:
    """One rasterised band of text and where it sits on the target."""

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx, self.texture, self.key = ctx, None, None

    def upload(self, img: Image.Image) -> None:
        data = np.asarray(img)[::-1].copy()  # GL textures start at the bottom row
        if self.texture is None or self.texture.size != img.size:
            if self.texture is not None:
                self.texture.release()
            self.texture = self.ctx.texture(img.size, 4, dtype="f1")
        self.texture.write(data)


class Hud:
    def __init__(self, ctx: moderngl.Context, shaders: ShaderCache, clock=time.monotonic) -> None:
        self.ctx = ctx
        self.handle = shaders.get("hud.glsl")
        self.vao = BoundVao(self.handle, [])
        self.font = ImageFont.load_default()
        self.visible = True
        self._clock = clock
        self._status, self._errors = _Strip(ctx), _Strip(ctx)
        self._status_at = -1.0
        self.rasterised = 0  # strips drawn with Pillow (tests check the throttle)

    def _status_image(self, w: int, status: str) -> Image.Image:
        img = Image.new("RGBA", (w, LINE + 6), (0, 0, 0, 140))
        ImageDraw.Draw(img).text((6, 3), status, font=self.font, fill=STATUS)
        return img

    def _error_image(self, w: int, errors: list[str]) -> Image.Image | None:
        width = max(20, w // 7)
        wrapped = [e[i:i + width] for e in errors[-4:] for i in range(0, len(e), width)][-8:]
        if not wrapped:
            return None
        img = Image.new("RGBA", (w, LINE * len(wrapped) + 14), (40, 0, 0, 190))
        draw = ImageDraw.Draw(img)
        for k, text in enumerate(wrapped):
            draw.text((6, 6 + k * LINE), text, font=self.font, fill=ERROR)
        return img

    def draw(self, target: moderngl.Framebuffer, status: str, errors: list[str]) -> None:
        if not self.visible:
            return
        w, h = target.viewport[2], target.viewport[3]
        now = self._clock()
        key = (w, status)
        if key != self._status.key and (now - self._status_at >= STATUS_EVERY or self._status.key is None
                                        or self._status.key[0] != w):
            self._status.upload(self._status_image(w, status))
            self._status.key, self._status_at = key, now
            self.rasterised += 1
        ekey = (w, tuple(errors[-4:]))
        if ekey != self._errors.key:
            img = self._error_image(w, errors)
            if img is not None:
                self._errors.upload(img)
                self.rasterised += 1
            self._errors.key = ekey
        viewport = target.viewport
        target.use()
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        self.handle.program["u_overlay"].value = 0
        strips = [(self._status, h - self._status.texture.size[1])]
        if errors and self._errors.texture is not None:
            strips.append((self._errors, 0))
        for strip, y in strips:
            sw, sh = strip.texture.size
            target.viewport = (0, max(y, 0), sw, min(sh, h))
            strip.texture.use(0)
            self.vao.get().render(moderngl.TRIANGLES, vertices=3)
        target.viewport = viewport
        self.ctx.disable(moderngl.BLEND)
