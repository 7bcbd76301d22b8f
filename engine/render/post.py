"""HDR post-processing: a multi-level bloom pyramid and the tone-mapping composite."""

from __future__ import annotations

from dataclasses import dataclass

import moderngl

from engine.render.shaders import build_program


@dataclass
class PostSettings:
    """The look of the final image; scenes change these freely."""

    exposure: float = 1.0
    black_level: float = 0.001  # linear; below it is pure black (foils show black as clear)
    bloom_strength: float = 0.6
    bloom_threshold: float = 0.4
    bloom_knee: float = 0.3
    bloom_radius: float = 1.0
    bloom_levels: int = 5


class Bloom:
    """Threshold at half resolution, blur down a pyramid of halvings, add back up."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int], levels: int) -> None:
        self.ctx = ctx
        self.prefilter, _ = build_program(ctx, "bloom_prefilter.glsl")
        self.down, _ = build_program(ctx, "bloom_down.glsl")
        self.up, _ = build_program(ctx, "bloom_up.glsl")
        self.vao = {p: ctx.vertex_array(p, []) for p in (self.prefilter, self.down, self.up)}
        self.levels: list[tuple[moderngl.Texture, moderngl.Framebuffer]] = []
        w, h = size
        for _ in range(max(1, levels)):
            w, h = max(1, w // 2), max(1, h // 2)
            tex = ctx.texture((w, h), 4, dtype="f2")
            tex.repeat_x = tex.repeat_y = False
            self.levels.append((tex, ctx.framebuffer([tex])))
            if min(w, h) <= 2:
                break

    @property
    def result(self) -> moderngl.Texture:
        return self.levels[0][0]

    def _pass(self, prog: moderngl.Program, source: moderngl.Texture, target: moderngl.Framebuffer) -> None:
        target.use()
        source.use(0)
        prog["u_source"].value = 0
        prog["u_texel"].value = (1.0 / source.width, 1.0 / source.height)
        self.vao[prog].render(moderngl.TRIANGLES, vertices=3)

    def run(self, hdr: moderngl.Texture, post: PostSettings) -> None:
        ctx = self.ctx
        ctx.disable(moderngl.BLEND)
        self.prefilter["u_threshold"].value = post.bloom_threshold
        self.prefilter["u_knee"].value = max(post.bloom_knee, 1e-3)
        self._pass(self.prefilter, hdr, self.levels[0][1])
        for (src, _), (_, dst) in zip(self.levels, self.levels[1:], strict=False):
            self._pass(self.down, src, dst)
        ctx.enable(moderngl.BLEND)
        ctx.blend_func = moderngl.ONE, moderngl.ONE
        self.up["u_radius"].value = post.bloom_radius
        for (_, dst), (src, _) in zip(reversed(self.levels[:-1]), reversed(self.levels[1:]), strict=True):
            self._pass(self.up, src, dst)
        ctx.disable(moderngl.BLEND)


class Composite:
    def __init__(self, ctx: moderngl.Context) -> None:
        self.prog, _ = build_program(ctx, "composite.glsl")
        self.vao = ctx.vertex_array(self.prog, [])

    def run(self, hdr: moderngl.Texture, bloom: moderngl.Texture, post: PostSettings,
            target: moderngl.Framebuffer, flip_y: bool) -> None:
        target.use()
        hdr.use(0)
        bloom.use(1)
        p = self.prog
        p["u_hdr"].value = 0
        p["u_bloom"].value = 1
        p["u_bloom_strength"].value = post.bloom_strength
        p["u_exposure"].value = post.exposure
        p["u_black_level"].value = min(max(post.black_level, 0.0), 0.5)
        p["u_flip_y"].value = int(flip_y)
        self.vao.render(moderngl.TRIANGLES, vertices=3)
