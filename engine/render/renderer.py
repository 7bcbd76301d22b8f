"""The renderer: layers into an HDR target, bloom, tone map, into an output framebuffer.

It owns every GPU object; scenes and layers never touch the GL context. `render_view` draws
the scene from one camera into a rectangle of any framebuffer (the whole window, one tile of
a light-field quilt, one eye of a stereo pair); the output layout (flat, pyramid, quilt, ...)
decides which views to draw and where. Frames for video files and tests are read back from
the offscreen RGBA8 output into preallocated numpy buffers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import moderngl
import numpy as np

from engine.render.backends import Backend, choose_backend
from engine.render.post import Bloom, Composite, Trails
from engine.render.shaders import BoundVao, ShaderCache
from engine.render.splat import Canvas


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


@dataclass
class ViewBuffers:
    """The HDR target and bloom pyramid for views of one size (shared by same-size views)."""

    hdr: moderngl.Texture
    fbo: moderngl.Framebuffer
    bloom: Bloom


class Renderer:
    """`backend`: "auto" (software GL or a GPU, by the GL renderer's name), "gpu" or
    "software"; chosen once. `render_scale` (0.1..1): draw each view at that fraction of its
    size and upscale it in the final pass, trading sharpness for frame rate."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int], layout=None,
                 shader_root: Path | None = None, backend: str = "auto",
                 render_scale: float = 1.0) -> None:
        from engine.render.layouts import FlatLayout

        self.ctx = ctx
        self.shaders = ShaderCache(ctx, shader_root)
        self.backend: Backend = choose_backend(ctx, self.shaders, backend)
        self.render_scale = render_scale
        self.composite = Composite(self.shaders)
        self.layout = layout or FlatLayout()
        self._drawers: dict[int, object] = {}
        self._views: dict[tuple[int, int, int], ViewBuffers] = {}
        self._trails: dict[tuple[tuple[int, int], int], Trails] = {}
        self._canvases: dict[tuple[int, int], Canvas] = {}
        self.canvas_pass = self.shaders.get("splat.glsl")
        self.canvas_vao = BoundVao(self.canvas_pass, [])
        self.size = (0, 0)
        self.resize(size)

    @property
    def renderer_name(self) -> str:
        return self.ctx.info.get("GL_RENDERER", "unknown")

    @property
    def software(self) -> bool:
        """True when the software-GL backend draws (CPU splat and lines, quarter bloom)."""
        return self.backend.name == "software"

    @property
    def render_scale(self) -> float:
        return self._render_scale

    @render_scale.setter
    def render_scale(self, value: float) -> None:
        value = float(value)
        if not 0.1 <= value <= 1.0:
            raise ValueError(f"render scale {value:g}: expected 0.1 to 1")
        self._render_scale = value

    def scaled(self, size: tuple[int, int]) -> tuple[int, int]:
        """The size a view of `size` is drawn at (before the final pass upscales it)."""
        if self._render_scale == 1.0:
            return int(size[0]), int(size[1])
        return (max(2, round(size[0] * self._render_scale)), max(2, round(size[1] * self._render_scale)))

    def resize(self, size: tuple[int, int]) -> None:
        if tuple(size) == self.size:
            return
        w, h = int(size[0]), int(size[1])
        if w < 2 or h < 2:
            raise ValueError("render size must be at least 2x2")
        self.size = (w, h)
        self.output = self.ctx.texture((w, h), 4, dtype="f1")
        self.output_fbo = self.ctx.framebuffer([self.output])

    def _drawer(self, layer):
        """The layer's drawer, made again when the layer or its `path` changed."""
        d = self._drawers.get(id(layer))
        if d is None or d.layer is not layer or d.path != self.backend.path(layer):
            if d is not None:
                for buf in d.buffers:
                    buf.release()
            d = self._drawers[id(layer)] = self.backend.drawer(layer)
        return d

    def prune(self, scene) -> None:
        """Release the GPU buffers of layers that are no longer in the scene (after a reload)."""
        live = {id(layer) for layer in scene.layers}
        for key in [k for k in self._drawers if k not in live]:
            for buf in self._drawers.pop(key).buffers:
                buf.release()

    def reload_shaders(self) -> list[str]:
        """Rebuild edited shaders (the last good program keeps running on an error);
        returns the current shader errors, for the operator."""
        return self.shaders.reload_changed()

    def view_buffers(self, size: tuple[int, int], bloom_levels: int) -> ViewBuffers:
        key = (int(size[0]), int(size[1]), bloom_levels)
        vb = self._views.get(key)
        if vb is None:
            hdr = self.backend.hdr_texture(key[:2])
            vb = self._views[key] = ViewBuffers(hdr, self.ctx.framebuffer([hdr]),
                                                self.backend.bloom(key[:2], bloom_levels))
        return vb

    def render_view(self, scene, view: np.ndarray, proj: np.ndarray, target: moderngl.Framebuffer,
                    viewport: tuple[int, int, int, int], flip_y: bool = False,
                    view_index: int = 0) -> None:
        """Draw the scene seen through (view, proj) into `viewport` (x, y, w, h) of `target`:
        layers into HDR, bloom, then tone-mapped into the target. `view_index` tells the views
        of a multi-view layout apart, so each keeps its own trail history. Below render scale
        1 the view is drawn smaller and the final pass stretches it over the viewport."""
        ctx, post = self.ctx, scene.post
        size = self.scaled((viewport[2], viewport[3]))
        vb = self.view_buffers(size, post.bloom_levels)
        vb.fbo.use()
        drawers = [self._drawer(layer) for layer in scene.layers if layer.visible]
        # CPU-drawn layers (software GL) add their light into one float32 canvas; light adds
        # up (additive blending), so on a black background the canvas *is* the starting image,
        # uploaded in place of a clear and an extra full-screen pass
        painters = [d for d in drawers if d.on_cpu]
        if painters:
            canvas = self._canvas(size)
            for k, painter in enumerate(painters):
                painter.paint(canvas.image, view, proj, size, clear=k == 0)
            drawers = [d for d in drawers if not d.on_cpu]
        direct = bool(painters) and vb.hdr.dtype == "f4" and not any(scene.background)
        if direct:
            vb.hdr.write(canvas.image)
        else:
            vb.fbo.clear(*scene.background, 0.0)
        ctx.enable(moderngl.BLEND | moderngl.PROGRAM_POINT_SIZE)
        ctx.blend_func = moderngl.ONE, moderngl.ONE
        if painters and not direct:
            canvas.texture.write(canvas.image)
            canvas.texture.use(0)
            self.canvas_pass.program["u_splat"].value = 0
            self.canvas_vao.get().render(moderngl.TRIANGLES, vertices=3)
        for drawer in drawers:
            drawer.draw(view, proj, size)
        # nothing drawn through GL and no trails: the canvas is the whole HDR image, so the
        # CPU can take the bloom's first (costliest) box filter
        whole = direct and not drawers and post.trails <= 0.0
        boxed = canvas.upload_box() if whole and canvas.boxable and vb.bloom.quarter else None
        key = (size, view_index)
        if post.trails > 0.0:
            trails = self._trails.get(key)
            if trails is None:
                trails = self._trails[key] = Trails(ctx, self.shaders, size)
            trails.run(vb.fbo, vb.hdr, post.trails)
        elif key in self._trails:  # the history is always last frame's light: none while off
            self._trails.pop(key).release()
        vb.bloom.run(vb.hdr, post, boxed)
        saved = target.viewport
        target.viewport = viewport
        self.composite.run(vb.hdr, vb.bloom.result, post, target, flip_y,
                           exact=size == (viewport[2], viewport[3]))
        target.viewport = saved

    def _canvas(self, size: tuple[int, int]) -> Canvas:
        key = (int(size[0]), int(size[1]))
        canvas = self._canvases.get(key)
        if canvas is None:
            canvas = self._canvases[key] = Canvas(self.ctx, key)
        return canvas

    def render(self, scene, target: moderngl.Framebuffer | None = None, flip_y: bool = False) -> None:
        """Draw a whole output frame through the current layout into `target` (default: the
        offscreen output). flip_y puts the top row first in memory, as video files expect."""
        out = target or self.output_fbo
        size = self.size if target is None else (out.viewport[2], out.viewport[3])
        self.upload(scene)
        self.layout.render(self, scene, out, size, flip_y)

    def upload(self, scene) -> None:
        """Send this frame's layer data to the GPU: once per frame, however many views (of a
        layout, or of a venue's outputs) are drawn from it."""
        scene.post.time = scene.time
        for layer in scene.layers:
            if layer.visible:
                self._drawer(layer).upload()

    def read_into(self, buffer: np.ndarray) -> np.ndarray:
        """Copy the offscreen output (RGBA8) into a preallocated (h, w, 4) uint8 array."""
        self.output_fbo.read_into(buffer, components=4)
        return buffer

    def new_frame_buffer(self) -> np.ndarray:
        return np.empty((self.size[1], self.size[0], 4), np.uint8)
