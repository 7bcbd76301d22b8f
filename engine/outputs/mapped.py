"""One venue output: a GLFW window on its monitor that shows a view through its mapping.

Every output window shares the objects of one main GL context (the stage's, where the scene is
rendered), so a view texture rendered once is sampled by each output that shows it. Each
output keeps its own small moderngl context for what GL does not share (vertex arrays, the
default framebuffer). `draw(view)` is one pass: warp, colour trim, soft edge and mask.

The interface is deliberately small (`draw`, `read`, `swap`, `move_to`, `close`) so other
windows sharing the context, such as an operator console, can sit beside the outputs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import glfw
import moderngl
import numpy as np

from engine.outputs.window import WindowError
from engine.render.shaders import ShaderCache
from engine.venue.config import OutputSpec
from engine.venue.mapping import blend_weights, corner_homography, grade_curve, warp_grid
from engine.venue.masks import rasterise_masks

log = logging.getLogger("symphony.outputs")

PATTERNS = ("none", "grid", "white", "ramp")


@dataclass(frozen=True)
class ViewImage:
    """A rendered view as the outputs see it: a texture of the main context and the part of
    it an output's image (uv 0..1, y down) covers, in texture and in canvas coordinates."""

    glo: int
    size: tuple[int, int]
    src: tuple[float, float, float, float]  # offset x, y and scale x, y into texture coords
    canvas: tuple[float, float, float, float]  # offset and scale into canvas-normalised coords


def gl_hints(visible: bool = True) -> None:
    glfw.default_window_hints()
    glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
    glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
    glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
    glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
    glfw.window_hint(glfw.VISIBLE, visible)
    # an audience output must never minimise when the operator clicks another window
    glfw.window_hint(glfw.AUTO_ICONIFY, False)


class Output:
    def __init__(self, spec: OutputSpec, monitor, share, default_size: tuple[int, int],
                 vsync: bool = False) -> None:
        self.spec = spec
        self.name = spec.name
        self.monitor = monitor  # GLFW monitor handle the output belongs on
        self.home_monitor_name = _monitor_name(monitor)
        self.windowed_size = tuple(spec.size or default_size)
        gl_hints(visible=True)
        if spec.fullscreen:
            mode = glfw.get_video_mode(monitor)
            self.handle = glfw.create_window(mode.size.width, mode.size.height, spec.name, monitor, share)
        else:
            self.handle = glfw.create_window(*self.windowed_size, spec.name, None, share)
        if not self.handle:
            raise WindowError(f"output '{spec.name}': could not create an OpenGL 3.3 window")
        if not spec.fullscreen:
            self._place_on(monitor)
        glfw.set_input_mode(self.handle, glfw.CURSOR, glfw.CURSOR_HIDDEN)
        glfw.make_context_current(self.handle)
        glfw.swap_interval(1 if vsync else 0)
        self.ctx = moderngl.create_context(require=330)
        self.shaders = ShaderCache(self.ctx)
        self.fullscreen = spec.fullscreen
        self.refresh = glfw.get_video_mode(monitor).refresh_rate
        self.dropped = 0
        self.frames = 0
        self._last_swap: float | None = None
        self._views: dict[int, moderngl.Texture] = {}
        self._mask_size: tuple[int, int] | None = None
        self._hud = None
        self._vbo = self._ibo = None
        self.on_key: Callable[[Output, int, int], None] | None = None
        self.on_mouse: Callable[[Output, str, float, float], None] | None = None
        glfw.set_key_callback(self.handle, self._key)
        glfw.set_mouse_button_callback(self.handle, self._button)
        glfw.set_cursor_pos_callback(self.handle, self._cursor)
        self.set_mapping(spec)

    # --- mapping -------------------------------------------------------------------------------
    def set_mapping(self, spec: OutputSpec) -> None:
        """Build the GPU side of a mapping (on start and after each calibration edit)."""
        glfw.make_context_current(self.handle)
        self.spec = spec
        verts, tris = warp_grid(spec.mesh)
        for old in (*(vao for _, vao in getattr(self, "_vaos", {}).values()), self._vbo, self._ibo):
            if old is not None:
                old.release()
        self._vbo = self.ctx.buffer(verts.tobytes())
        self._ibo = self.ctx.buffer(tris.tobytes())
        self._corner = corner_homography(spec.corners).T.astype(np.float32).tobytes()  # GLSL columns
        self._grade = self._lut(grade_curve(spec.brightness, spec.gamma, spec.black_level)[None, :]) \
            if spec.graded else None
        self._blend = self._lut(blend_weights(spec.blend, 2048)) if spec.blend.active else None
        self._mask_size = None  # rasterised at the framebuffer's size when drawn
        self._vaos: dict[int, tuple[object, moderngl.VertexArray]] = {}

    def _lut(self, data: np.ndarray) -> moderngl.Texture:
        tex = self.ctx.texture((data.shape[1], data.shape[0]), 1, data.astype(np.float32).tobytes(),
                               dtype="f4")
        tex.repeat_x = tex.repeat_y = False
        return tex

    def _program(self, pattern: int):
        defines = {"PATTERN": pattern}
        if self._grade is not None:
            defines["GRADE"] = 1
        if self._blend is not None:
            defines["BLEND"] = 1
        if self.spec.masks:
            defines["MASK"] = 1
        handle = self.shaders.get("output_map.glsl", defines)
        cached = self._vaos.get(pattern)
        if cached is None or cached[0] is not handle.program:
            # a pattern that ignores the image (white) lets the compiler drop in_uv
            layout = ("2f 2f", "in_pos", "in_uv") if "in_uv" in handle.program else ("2f 8x", "in_pos")
            vao = self.ctx.vertex_array(handle.program, [(self._vbo, *layout)],
                                        index_buffer=self._ibo, index_element_size=4)
            cached = self._vaos[pattern] = (handle.program, vao)
        return cached

    def _view_texture(self, view: ViewImage) -> moderngl.Texture:
        tex = self._views.get(view.glo)
        if tex is None or tex.size != view.size:
            tex = self._views[view.glo] = self.ctx.external_texture(view.glo, view.size, 4, 0, "f1")
        return tex

    # --- drawing -------------------------------------------------------------------------------
    @property
    def framebuffer_size(self) -> tuple[int, int]:
        return glfw.get_framebuffer_size(self.handle)

    def draw(self, view: ViewImage | None, pattern: int = 0) -> None:
        """The view (or a calibration pattern) through this output's mapping, into its window."""
        glfw.make_context_current(self.handle)
        w, h = self.framebuffer_size
        screen = self.ctx.screen
        screen.viewport = (0, 0, max(w, 1), max(h, 1))
        screen.use()
        screen.clear(0.0, 0.0, 0.0, 1.0)
        if w < 2 or h < 2 or (view is None and pattern == 0):
            return
        program, vao = self._program(pattern)
        if pattern == 0:
            self._view_texture(view).use(0)
            program["u_view"].value = 0
        for name, value in (("u_corner", self._corner), ("u_src", view.src if view else (0, 0, 1, 1)),
                            ("u_canvas", view.canvas if view else (0, 0, 1, 1))):
            if name in program and isinstance(value, bytes):
                program[name].write(value)
            elif name in program:
                program[name].value = value
        for unit, (name, tex) in enumerate((("u_grade", self._grade), ("u_blend", self._blend),
                                            ("u_mask", self._mask_texture((w, h)))), start=1):
            if tex is not None and name in program:
                tex.use(unit)
                program[name].value = unit
        self.ctx.disable(moderngl.BLEND | moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        vao.render(moderngl.TRIANGLES)

    def draw_handles(self, points: list[tuple[float, float]], picked: int) -> None:
        """Calibration handles over the frame (operator-only: calibration mode)."""
        data = np.array([(x, y, float(i == picked)) for i, (x, y) in enumerate(points)], np.float32)
        handle = self.shaders.get("output_handles.glsl")
        vbo = self.ctx.buffer(data.tobytes())
        vao = self.ctx.vertex_array(handle.program, [(vbo, "2f 1f", "in_pos", "in_picked")])
        self.ctx.enable(moderngl.PROGRAM_POINT_SIZE)
        vao.render(moderngl.POINTS)
        vao.release()
        vbo.release()

    def draw_hud(self, status: str, errors: list[str]) -> None:
        if self._hud is None:
            from engine.hud import Hud
            self._hud = Hud(self.ctx, self.shaders)
        self._hud.draw(self.ctx.screen, status, errors)

    def _mask_texture(self, size: tuple[int, int]) -> moderngl.Texture | None:
        if not self.spec.masks:
            return None
        if self._mask_size != size:
            data = rasterise_masks(self.spec.masks, size)[::-1]  # GL rows start at the bottom
            self._mask = self.ctx.texture(size, 1, np.ascontiguousarray(data).tobytes(), dtype="f4")
            self._mask.filter = (moderngl.NEAREST, moderngl.NEAREST)
            self._mask_size = size
        return self._mask

    def read(self) -> np.ndarray:
        """What this output shows now, (h, w, 4) uint8, top row first (call before `swap`)."""
        glfw.make_context_current(self.handle)
        w, h = self.framebuffer_size
        data = self.ctx.screen.read(viewport=(0, 0, w, h), components=4)
        return np.frombuffer(data, np.uint8).reshape(h, w, 4)[::-1].copy()

    def swap(self) -> None:
        """Show the frame; a gap over 1.5 refresh periods since the last counts as dropped frames."""
        glfw.swap_buffers(self.handle)
        now = time.perf_counter()
        period = 1.0 / max(self.refresh, 1)
        if self._last_swap is not None and now - self._last_swap > 1.5 * period:
            self.dropped += int(round((now - self._last_swap) / period)) - 1
        self._last_swap = now
        self.frames += 1

    # --- monitors ------------------------------------------------------------------------------
    def _place_on(self, monitor) -> None:
        mx, my, mw, mh = glfw.get_monitor_workarea(monitor)
        w, h = self.windowed_size
        glfw.set_window_pos(self.handle, mx + max(0, (mw - w) // 2), my + max(0, (mh - h) // 2))

    def move_to(self, monitor, fullscreen: bool) -> None:
        """Put the output on `monitor`, full screen or as a window centred there."""
        self.monitor = monitor
        mode = glfw.get_video_mode(monitor)
        self.refresh = mode.refresh_rate
        if fullscreen:
            glfw.set_window_monitor(self.handle, monitor, 0, 0, mode.size.width, mode.size.height,
                                    mode.refresh_rate)
        else:
            glfw.set_window_monitor(self.handle, None, 0, 0, *self.windowed_size, 0)
            self._place_on(monitor)
        self.fullscreen = fullscreen
        self._mask_size = None

    def toggle_fullscreen(self) -> None:
        self.move_to(self.monitor, not self.fullscreen)

    @property
    def position(self) -> tuple[int, int]:
        return glfw.get_window_pos(self.handle)

    @property
    def should_close(self) -> bool:
        return bool(glfw.window_should_close(self.handle))

    def show_cursor(self, shown: bool) -> None:
        glfw.set_input_mode(self.handle, glfw.CURSOR, glfw.CURSOR_NORMAL if shown else glfw.CURSOR_HIDDEN)

    def close(self) -> None:
        glfw.destroy_window(self.handle)

    # --- input ---------------------------------------------------------------------------------
    def _key(self, handle, key, scancode, action, mods) -> None:
        if action in (glfw.PRESS, glfw.REPEAT) and self.on_key is not None:
            self.on_key(self, key, mods)

    def _normalised_cursor(self) -> tuple[float, float]:
        x, y = glfw.get_cursor_pos(self.handle)
        w, h = glfw.get_window_size(self.handle)
        return x / max(w, 1), y / max(h, 1)

    def _button(self, handle, button, action, mods) -> None:
        if button == glfw.MOUSE_BUTTON_LEFT and self.on_mouse is not None:
            self.on_mouse(self, "press" if action == glfw.PRESS else "release", *self._normalised_cursor())

    def _cursor(self, handle, x, y) -> None:
        if self.on_mouse is not None:
            self.on_mouse(self, "move", *self._normalised_cursor())


def _monitor_name(monitor) -> str:
    name = glfw.get_monitor_name(monitor) if monitor else b""
    return name.decode(errors="replace") if isinstance(name, bytes) else str(name)
