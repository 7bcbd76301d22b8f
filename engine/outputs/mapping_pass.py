"""The one GPU pass of a venue output: a view warped through the output's mesh and corner pin,
its colour trimmed, soft-edge blended and masked (shaders/output_map.glsl), into any framebuffer.

Optional parts are compiled in only when the mapping uses them, so an unmapped output costs a
textured quad. A window (engine.outputs.mapped.Output) or an offscreen target (benchmarks)
hosts it; the view texture may belong to another context that shares objects with this one.
"""

from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np

from engine.render.shaders import ShaderCache
from engine.venue.config import OutputSpec
from engine.venue.mapping import blend_weights, corner_homography, warp_grid
from engine.venue.masks import rasterise_masks

PATTERNS = ("none", "grid", "white", "ramp")


@dataclass(frozen=True)
class ViewImage:
    """A rendered view as the outputs see it: a texture of the main context and the part of
    it an output's image (uv 0..1, y down) covers, in texture and in canvas coordinates."""

    glo: int
    size: tuple[int, int]
    src: tuple[float, float, float, float]  # offset x, y and scale x, y into texture coords
    canvas: tuple[float, float, float, float]  # offset and scale into canvas-normalised coords
    aspect: float = 1.0  # the canvas's width / height (square cells in the grid pattern)


class MappingPass:
    def __init__(self, ctx: moderngl.Context, spec: OutputSpec) -> None:
        self.ctx = ctx
        self.shaders = ShaderCache(ctx)
        self._views: dict[int, moderngl.Texture] = {}
        self._vaos: dict[int, tuple[object, moderngl.VertexArray]] = {}
        self._vbo = self._ibo = self._blend = self._mask = self._light = self._light_fbo = None
        self._exact = ctx.sampler(filter=(moderngl.NEAREST, moderngl.NEAREST), repeat_x=False, repeat_y=False)
        self.set_mapping(spec)

    def set_mapping(self, spec: OutputSpec) -> None:
        """Build the GPU side of a mapping (on start and after each calibration edit)."""
        self.spec = spec
        verts, tris = warp_grid(spec.mesh)
        for old in (*(vao for _, vao in self._vaos.values()), self._vbo, self._ibo, self._blend, self._mask,
                    self._light_fbo, self._light):
            if old is not None:
                old.release()
        self._mask = self._light = self._light_fbo = None
        self._vbo = self.ctx.buffer(verts.tobytes())
        self._ibo = self.ctx.buffer(tris.tobytes())
        self._corner = corner_homography(spec.corners).T.astype(np.float32).tobytes()  # GLSL columns
        self._grade = (spec.brightness, 1.0 / spec.gamma, spec.black_level)
        self._blend = self._lut(blend_weights(spec.blend, 2048)) if spec.blend.active else None
        self._mask_size = self._light_size = None  # made at the target's size when drawn
        self._vaos = {}

    def _lut(self, data: np.ndarray) -> moderngl.Texture:
        tex = self.ctx.texture((data.shape[1], data.shape[0]), 1, data.astype(np.float32).tobytes(),
                               dtype="f4")
        tex.repeat_x = tex.repeat_y = False
        return tex

    def _program(self, pattern: int, bake: bool = False):
        """The pass's program for a pattern; `bake` is the variant that draws the soft edges
        and masks alone (white through the mapping) into the output's light map."""
        spec = self.spec
        defines: dict[str, int] = {"PATTERN": 2 if bake else pattern}
        if bake:
            if spec.blend.left > 0 or spec.blend.right > 0:
                defines["BLEND_U"] = 1
            if spec.blend.top > 0 or spec.blend.bottom > 0:
                defines["BLEND_V"] = 1
            if spec.masks:
                defines["MASK"] = 1
        else:
            if spec.graded:
                defines["GRADE"] = 1
            if spec.gamma != 1.0:
                defines["GAMMA"] = 1
            if self.needs_light_map:
                defines["LIGHT_MAP"] = 1
        handle = self.shaders.get("output_map.glsl", defines)
        key = -1 if bake else pattern
        cached = self._vaos.get(key)
        if cached is None or cached[0] is not handle.program:
            # a pattern that ignores the image (white) lets the compiler drop in_uv
            layout = ("2f 2f", "in_pos", "in_uv") if "in_uv" in handle.program else ("2f 8x", "in_pos")
            vao = self.ctx.vertex_array(handle.program, [(self._vbo, *layout)],
                                        index_buffer=self._ibo, index_element_size=4)
            cached = self._vaos[key] = (handle.program, vao)
        return cached

    @property
    def needs_light_map(self) -> bool:
        return self.spec.blend.active or bool(self.spec.masks)

    def _light_map(self, size: tuple[int, int]) -> moderngl.Texture | None:
        """Soft edges times masks at the output's pixels, drawn through the mapping once per
        mapping and size (not per frame): each frame then pays one fetch for both."""
        if not self.needs_light_map:
            return None
        if self._light_size != size:
            if self._light is not None:
                self._light_fbo.release()
                self._light.release()
            self._light = self.ctx.texture(size, 1)
            self._light.filter = (moderngl.NEAREST, moderngl.NEAREST)
            self._light_fbo = self.ctx.framebuffer([self._light])
            self._light_size = size
            program, vao = self._program(2, bake=True)
            self._light_fbo.viewport = (0, 0, *size)
            self._light_fbo.use()
            self._light_fbo.clear(0.0, 0.0, 0.0, 1.0)
            self._set(program, None, size)
            self.ctx.disable(moderngl.BLEND | moderngl.DEPTH_TEST | moderngl.CULL_FACE)
            vao.render(moderngl.TRIANGLES)
        return self._light

    def _set(self, program, view: ViewImage | None, size: tuple[int, int]) -> None:
        for name, value in (("u_grade", self._grade), ("u_corner", self._corner),
                            ("u_src", view.src if view else (0, 0, 1, 1)),
                            ("u_canvas", view.canvas if view else (0, 0, 1, 1)),
                            ("u_aspect", view.aspect if view else size[0] / max(size[1], 1))):
            if name in program and isinstance(value, bytes):
                program[name].write(value)
            elif name in program:
                program[name].value = value
        for unit, (name, tex) in enumerate((("u_blend", lambda: self._blend),
                                            ("u_mask", lambda: self._mask_texture(size)),
                                            ("u_light", lambda: self._light)), start=1):
            if name in program:
                tex().use(unit)
                program[name].value = unit

    def _view_texture(self, view: ViewImage) -> moderngl.Texture:
        tex = self._views.get(view.glo)
        if tex is None or tex.size != view.size:
            tex = self._views[view.glo] = self.ctx.external_texture(view.glo, view.size, 4, 0, "f1")
        return tex

    def draw(self, target: moderngl.Framebuffer, size: tuple[int, int], view: ViewImage | None,
             pattern: int = 0) -> None:
        """The view (or a calibration pattern) through the mapping into `target` of `size`:
        one pass over the output, black outside the warped image."""
        w, h = size
        if w >= 2 and h >= 2:
            self._light_map((w, h))
        target.viewport = (0, 0, max(w, 1), max(h, 1))
        target.use()
        target.clear(0.0, 0.0, 0.0, 1.0)
        if w < 2 or h < 2 or (view is None and pattern == 0):
            return
        program, vao = self._program(pattern)
        if pattern == 0:
            self._view_texture(view).use(0)
            program["u_view"].value = 0
        # unwarped at the view's own size, every pixel centre samples a texel centre: nearest
        # gives the same values as linear and costs a third less on software GL
        exact = pattern == 0 and not self.spec.warped and tuple(view.size) == (w, h)
        if exact:
            self._exact.use(0)
        self._set(program, view, size)
        self.ctx.disable(moderngl.BLEND | moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        vao.render(moderngl.TRIANGLES)
        if exact:
            self._exact.clear(0)

    def draw_handles(self, target: moderngl.Framebuffer, points: list[tuple[float, float]],
                     picked: int) -> None:
        """Calibration handles over the frame (operator-only: calibration mode)."""
        target.use()
        data = np.array([(x, y, float(i == picked)) for i, (x, y) in enumerate(points)], np.float32)
        handle = self.shaders.get("output_handles.glsl")
        vbo = self.ctx.buffer(data.tobytes())
        vao = self.ctx.vertex_array(handle.program, [(vbo, "2f 1f", "in_pos", "in_picked")])
        self.ctx.enable(moderngl.PROGRAM_POINT_SIZE)
        vao.render(moderngl.POINTS)
        vao.release()
        vbo.release()

    def _mask_texture(self, size: tuple[int, int]) -> moderngl.Texture | None:
        if not self.spec.masks:
            return None
        if self._mask_size != size:
            data = rasterise_masks(self.spec.masks, size)[::-1]  # GL rows start at the bottom
            if self._mask is not None:
                self._mask.release()
            levels = np.ascontiguousarray(np.round(data * 255.0).astype(np.uint8))
            self._mask = self.ctx.texture(size, 1, levels.tobytes())
            self._mask.filter = (moderngl.NEAREST, moderngl.NEAREST)
            self._mask_size = size
        return self._mask
