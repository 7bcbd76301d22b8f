"""HDR post-processing: trails, a multi-level bloom pyramid, and the tone-mapping composite
with the hologram look for scrims and Pepper's-ghost foils."""

from __future__ import annotations

import moderngl

from engine.post_settings import PostSettings
from engine.render.shaders import BoundVao, ShaderCache

__all__ = ["Bloom", "Composite", "PostSettings", "Trails"]


class _FullscreenPass:
    def __init__(self, shaders: ShaderCache, name: str, defines: dict | None = None) -> None:
        self.handle = shaders.get(name, defines)
        self.vao = BoundVao(self.handle, [])

    @property
    def prog(self) -> moderngl.Program:
        return self.handle.program

    def set(self, name: str, value) -> None:
        if name in self.prog:
            self.prog[name].value = value

    def run(self, target: moderngl.Framebuffer, *textures: moderngl.Texture) -> None:
        target.use()
        for unit, tex in enumerate(textures):
            tex.use(unit)
        self.vao.get().render(moderngl.TRIANGLES, vertices=3)


class Bloom:
    """Threshold at half resolution (quarter on software GL), blur down a pyramid of halvings,
    add back up."""

    def __init__(self, ctx: moderngl.Context, shaders: ShaderCache, size: tuple[int, int],
                 levels: int, quarter: bool = False) -> None:
        self.ctx = ctx
        self.prefilter = _FullscreenPass(shaders, "bloom_prefilter.glsl",
                                         {"QUARTER": 1} if quarter else None)
        # from the 8×8 box the CPU already took (`Canvas.upload_box`): threshold only
        self.quarter = quarter
        self.prefilter_boxed = (_FullscreenPass(shaders, "bloom_prefilter.glsl", {"BOXED": 1})
                                if quarter else None)
        self.down = _FullscreenPass(shaders, "bloom_down.glsl")
        self.up = _FullscreenPass(shaders, "bloom_up.glsl")
        self.levels: list[tuple[moderngl.Texture, moderngl.Framebuffer]] = []
        w, h = (size[0] // 2, size[1] // 2) if quarter else size
        for _ in range(max(1, levels - int(quarter))):
            w, h = max(1, w // 2), max(1, h // 2)
            # float32 on software GL: llvmpipe filters it faster than float16 (its 4 MB is free)
            tex = ctx.texture((w, h), 4, dtype="f4" if quarter else "f2")
            tex.repeat_x = tex.repeat_y = False
            self.levels.append((tex, ctx.framebuffer([tex])))
            if min(w, h) <= 2:
                break

    @property
    def result(self) -> moderngl.Texture:
        return self.levels[0][0]

    def _pass(self, p: _FullscreenPass, source: moderngl.Texture, target: moderngl.Framebuffer) -> None:
        p.set("u_source", 0)
        p.set("u_texel", (1.0 / source.width, 1.0 / source.height))
        p.run(target, source)

    def run(self, hdr: moderngl.Texture, post: PostSettings,
            boxed: moderngl.Texture | None = None) -> None:
        """Bloom of `hdr`; in quarter mode `boxed` may bring its 8×8 box average, taken already."""
        ctx = self.ctx
        ctx.disable(moderngl.BLEND)
        prefilter, source = ((self.prefilter_boxed, boxed)
                             if boxed is not None and self.prefilter_boxed is not None
                             else (self.prefilter, hdr))
        prefilter.set("u_threshold", post.bloom_threshold)
        prefilter.set("u_knee", max(post.bloom_knee, 1e-3))
        self._pass(prefilter, source, self.levels[0][1])
        for (src, _), (_, dst) in zip(self.levels, self.levels[1:], strict=False):
            self._pass(self.down, src, dst)
        ctx.enable(moderngl.BLEND)
        ctx.blend_func = moderngl.ONE, moderngl.ONE
        self.up.set("u_radius", post.bloom_radius)
        for (_, dst), (src, _) in zip(reversed(self.levels[:-1]), reversed(self.levels[1:]), strict=True):
            self._pass(self.up, src, dst)
        ctx.disable(moderngl.BLEND)


class Trails:
    """Feedback: the last frame's light, faded, added under this frame's."""

    def __init__(self, ctx: moderngl.Context, shaders: ShaderCache, size: tuple[int, int]) -> None:
        self.ctx = ctx
        self.fade = _FullscreenPass(shaders, "trails.glsl")
        self.history = ctx.texture(size, 4, dtype="f2")
        self.history_fbo = ctx.framebuffer([self.history])
        self.history_fbo.clear()

    def run(self, hdr_fbo: moderngl.Framebuffer, hdr: moderngl.Texture, amount: float) -> None:
        ctx = self.ctx
        ctx.enable(moderngl.BLEND)
        ctx.blend_func = moderngl.ONE, moderngl.ONE
        self.fade.set("u_source", 0)
        self.fade.set("u_amount", min(max(amount, 0.0), 0.99))
        self.fade.run(hdr_fbo, self.history)
        ctx.disable(moderngl.BLEND)
        ctx.copy_framebuffer(self.history_fbo, hdr_fbo)

    def release(self) -> None:
        self.history_fbo.release()
        self.history.release()


class Composite:
    """Tone mapping into the target; the hologram look is compiled in only while it is on
    (software GL pays for uniform branches per pixel)."""

    def __init__(self, shaders: ShaderCache) -> None:
        self.plain = _FullscreenPass(shaders, "composite.glsl")
        self.hologram = _FullscreenPass(shaders, "composite.glsl", {"HOLOGRAM": 1})
        # the plain pass reads the HDR view 1:1, texel centre on pixel centre: unfiltered
        # reads give the same values and save a fifth of the pass on software GL (the bloom
        # prefilter still filters the same texture, so this is a sampler, not a texture state)
        ctx = shaders.ctx
        self.exact = ctx.sampler(filter=(moderngl.NEAREST, moderngl.NEAREST), repeat_x=False,
                                 repeat_y=False)

    def run(self, hdr: moderngl.Texture, bloom: moderngl.Texture, post: PostSettings,
            target: moderngl.Framebuffer, flip_y: bool, exact: bool = True) -> None:
        """`exact`: the HDR view is the target's size (else it is filtered as it stretches)."""
        effects = (post.scanlines, post.chromatic, post.flicker, post.glitch)
        p = self.hologram if any(e > 0.0 for e in effects) else self.plain
        for name, value in (("u_hdr", 0), ("u_bloom", 1), ("u_bloom_strength", post.bloom_strength),
                            ("u_exposure", post.exposure),
                            ("u_black_level", min(max(post.black_level, 0.0), 0.5)),
                            ("u_flip_y", int(flip_y)), ("u_scanlines", post.scanlines),
                            ("u_scanline_density", post.scanline_density),
                            ("u_rows", float(target.viewport[3])),
                            ("u_chromatic", post.chromatic / 1000.0), ("u_flicker", post.flicker),
                            ("u_glitch", post.glitch), ("u_time", post.time)):
            p.set(name, value)
        # run() calls target.use(), which applies target.viewport: layouts set it per tile
        exact = exact and p is self.plain
        if exact:
            self.exact.use(0)
        p.run(target, hdr, bloom)
        if exact:
            self.exact.clear(0)
