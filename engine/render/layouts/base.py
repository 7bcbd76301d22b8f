"""Shared pieces of the output layouts: spec parsing, errors, rectangles and cached GPU objects.

Rectangles are given in display coordinates (x right, y up from the bottom of the picture as
seen) and turned into GL viewports here: with `flip_y` the output is read back top row first,
so the picture's bottom lies at the top of the framebuffer.
"""

from __future__ import annotations

import moderngl

from engine.options import split_options, to_bool
from engine.render.shaders import BoundVao, ShaderCache


class LayoutError(ValueError):
    """A layout spec or calibration the user can fix; shown as one line."""


class Options:
    """`kind:pos1,pos2,key=value,...` split into positional words and named options (by
    engine.options, the one parser source specs use too)."""

    def __init__(self, spec: str, allowed: tuple[str, ...], positional: int = 0) -> None:
        self.spec = spec
        kind, _, rest = spec.partition(":")
        self.kind = kind.strip().lower()
        self.words, self.named = split_options(rest, f"layout '{spec}'", LayoutError,
                                               positional=positional, allowed=allowed, lower=True)

    def number(self, key: str, default: float | None, lo: float, hi: float) -> float | None:
        if key not in self.named:
            return default
        try:
            value = float(self.named[key])
        except ValueError:
            raise LayoutError(f"layout '{self.spec}': {key} must be a number") from None
        if not lo <= value <= hi:
            raise LayoutError(f"layout '{self.spec}': {key}={value:g} is out of range ({lo:g}..{hi:g})")
        return value

    def flag(self, key: str) -> bool:
        try:
            return to_bool(self.named.get(key, "0"))
        except ValueError:
            raise LayoutError(f"layout '{self.spec}': {key} must be 1/true/yes/on or 0/false/no/off, "
                              f"not '{self.named[key]}'") from None


def parse_grid(text: str, spec: str, what: str = "COLSxROWS") -> tuple[int, int]:
    try:
        a, b = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise LayoutError(f"layout '{spec}': expected {what} like 8x6, got '{text}'") from None
    if not (1 <= a <= 16384 and 1 <= b <= 16384):
        raise LayoutError(f"layout '{spec}': {a}x{b} is out of range")
    return a, b


def gl_rect(x: int, y: int, w: int, h: int, height: int, flip_y: bool) -> tuple[int, int, int, int]:
    """A rectangle given from the picture's bottom-left, as a viewport of the target."""
    return (x, height - y - h, w, h) if flip_y else (x, y, w, h)


class Offscreen:
    """One texture + framebuffer, recreated only when the size changes (never per frame)."""

    def __init__(self, dtype: str = "f1", nearest: bool = False) -> None:
        self.dtype, self.nearest = dtype, nearest
        self.texture: moderngl.Texture | None = None
        self.fbo: moderngl.Framebuffer | None = None

    def get(self, ctx: moderngl.Context, size: tuple[int, int]) -> moderngl.Framebuffer:
        if self.texture is None or self.texture.size != tuple(size) or self.texture.ctx is not ctx:
            self.release()
            self.texture = ctx.texture(tuple(size), 4, dtype=self.dtype)
            self.texture.repeat_x = self.texture.repeat_y = False
            if self.nearest:
                self.texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
            self.fbo = ctx.framebuffer([self.texture])
        return self.fbo

    def release(self) -> None:
        if self.fbo is not None:
            self.fbo.release()
            self.texture.release()
        self.texture = self.fbo = None


class Pass:
    """A fullscreen-triangle program from `shaders/`, taken from the renderer's shader cache
    (so editing a `layout_*.glsl` during a show reloads it like every other shader)."""

    def __init__(self, shader: str) -> None:
        self.shader = shader
        self._cache: ShaderCache | None = None
        self._vao: BoundVao | None = None

    def bind(self, renderer) -> Pass:
        if self._cache is not renderer.shaders:
            self._cache = renderer.shaders
            self._vao = BoundVao(self._cache.get(self.shader), [])
        return self

    def set(self, name: str, value) -> None:
        """Set a uniform the current program uses (compilers drop unused ones)."""
        prog = self._vao.program
        if name in prog:
            if isinstance(value, bytes):
                prog[name].write(value)
            else:
                prog[name].value = value

    def draw(self, target: moderngl.Framebuffer, viewport: tuple[int, int, int, int]) -> None:
        """Run the pass over `viewport` of `target` (uniforms set before with `set`)."""
        saved = target.viewport
        target.viewport = viewport
        target.use()
        self._vao.handle.ctx.disable(moderngl.BLEND)
        self._vao.get().render(moderngl.TRIANGLES, vertices=3)
        target.viewport = saved


def clear_black(target: moderngl.Framebuffer) -> None:
    """Exact black (transparent on a foil) everywhere no view is drawn."""
    target.clear(0.0, 0.0, 0.0, 1.0)
