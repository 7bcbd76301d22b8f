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

import glfw
import moderngl
import numpy as np

from engine.outputs.mapping_pass import PATTERNS, MappingPass, ViewImage
from engine.outputs.window import WindowError
from engine.venue.config import OutputSpec

log = logging.getLogger("symphony.outputs")

__all__ = ["PATTERNS", "Output", "ViewImage", "gl_hints"]


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
        self.mapping = MappingPass(self.ctx, spec)
        self.fullscreen = spec.fullscreen
        self.refresh = glfw.get_video_mode(monitor).refresh_rate
        self.dropped = 0
        self.frames = 0
        self._last_swap: float | None = None
        self._hud = None
        self.on_key: Callable[[Output, int, int], None] | None = None
        self.on_mouse: Callable[[Output, str, float, float], None] | None = None
        glfw.set_key_callback(self.handle, self._key)
        glfw.set_mouse_button_callback(self.handle, self._button)
        glfw.set_cursor_pos_callback(self.handle, self._cursor)


    # --- mapping and drawing ------------------------------------------------------------------
    def set_mapping(self, spec: OutputSpec) -> None:
        """Rebuild the GPU side of the mapping (on start and after each calibration edit)."""
        glfw.make_context_current(self.handle)
        self.spec = spec
        self.mapping.set_mapping(spec)

    @property
    def framebuffer_size(self) -> tuple[int, int]:
        return glfw.get_framebuffer_size(self.handle)

    def draw(self, view: ViewImage | None, pattern: int = 0) -> None:
        """The view (or a calibration pattern) through this output's mapping, into its window."""
        glfw.make_context_current(self.handle)
        self.mapping.draw(self.ctx.screen, self.framebuffer_size, view, pattern)

    def draw_handles(self, points: list[tuple[float, float]], picked: int) -> None:
        """Calibration handles over the frame (operator-only: calibration mode)."""
        self.mapping.draw_handles(self.ctx.screen, points, picked)

    def draw_hud(self, status: str, errors: list[str]) -> None:
        if self._hud is None:
            from engine.hud import Hud
            self._hud = Hud(self.ctx, self.mapping.shaders)
        self._hud.draw(self.ctx.screen, status, errors)

    def read(self) -> np.ndarray:
        """What this output shows now, (h, w, 4) uint8, top row first (call before `swap`)."""
        glfw.make_context_current(self.handle)
        w, h = self.framebuffer_size
        data = self.ctx.screen.read(viewport=(0, 0, w, h), components=4)
        return np.frombuffer(data, np.uint8).reshape(h, w, 4)[::-1].copy()

    def swap(self) -> None:
        """Show the frame. A gap of over 1.5 refresh periods since the last swap counts the
        refreshes that showed no new frame as dropped (per output: monitors differ)."""
        glfw.swap_buffers(self.handle)
        now = time.perf_counter()
        period = 1.0 / max(self.refresh, 1)
        # from the third frame: the first ones wait for shaders and kernels to compile
        if self.frames >= 2 and now - self._last_swap > 1.5 * period:
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
        # held keys repeat only for nudging (arrows); C, P, S act once per press
        nudge = key in (glfw.KEY_LEFT, glfw.KEY_RIGHT, glfw.KEY_UP, glfw.KEY_DOWN)
        if self.on_key is not None and (action == glfw.PRESS or (action == glfw.REPEAT and nudge)):
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
