"""A GLFW window on a chosen monitor, windowed or full screen, with an OpenGL 3.3 context.

Keys: Esc quits, F toggles full screen. The window never assumes the primary monitor: it
opens on the monitor the operator picked and goes full screen there.
"""

from __future__ import annotations

import logging

import glfw
import moderngl

log = logging.getLogger("symphony.window")

# GLFW problems become our own one-line errors; its raw messages go to the debug log
glfw.ERROR_REPORTING = "ignore"


class WindowError(RuntimeError):
    pass


def init_glfw() -> None:
    glfw.set_error_callback(lambda code, text: log.debug("GLFW %s: %s", code, text))
    if not glfw.init():
        raise WindowError("cannot open a window: no display (set DISPLAY, or use 'render')")


def monitors() -> list[dict]:
    """Monitors GLFW sees, as plain dicts (index, name, position, video mode)."""
    out = []
    for i, mon in enumerate(glfw.get_monitors() or []):
        mode = glfw.get_video_mode(mon)
        x, y = glfw.get_monitor_pos(mon)
        name = glfw.get_monitor_name(mon)
        name = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
        out.append({"index": i, "name": name, "x": x, "y": y, "width": mode.size.width,
                    "height": mode.size.height, "refresh": mode.refresh_rate})
    return out


class Window:
    def __init__(self, title: str, size: tuple[int, int] = (1280, 720), monitor: int = 0,
                 fullscreen: bool = False, vsync: bool = True) -> None:
        init_glfw()
        mons = glfw.get_monitors() or []
        if not mons:
            raise WindowError("no monitor found")
        if not 0 <= monitor < len(mons):
            raise WindowError(f"monitor {monitor} does not exist (monitors: 0..{len(mons) - 1})")
        self.monitor = mons[monitor]
        self.windowed_size = size
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
        glfw.window_hint(glfw.VISIBLE, False)
        glfw.window_hint(glfw.AUTO_ICONIFY, False)  # a full-screen show never minimises on focus loss
        self.handle = glfw.create_window(size[0], size[1], title, None, None)
        if not self.handle:
            glfw.terminate()
            raise WindowError("could not create an OpenGL 3.3 window")
        self._place_windowed()
        glfw.show_window(self.handle)
        glfw.make_context_current(self.handle)
        glfw.swap_interval(1 if vsync else 0)
        self.ctx = moderngl.create_context(require=330)
        self.fullscreen = False
        if fullscreen:
            self.toggle_fullscreen()
        self._keys: dict[int, object] = {}
        glfw.set_key_callback(self.handle, self._on_key)

    def on_key(self, key: str, action) -> None:
        """Call `action()` when `key` (a letter or digit) is pressed."""
        self._keys[getattr(glfw, f"KEY_{key.upper()}")] = action

    def _place_windowed(self) -> None:
        """Centre the window on its monitor's work area."""
        mx, my, mw, mh = glfw.get_monitor_workarea(self.monitor)
        w, h = self.windowed_size
        glfw.set_window_pos(self.handle, mx + max(0, (mw - w) // 2), my + max(0, (mh - h) // 2))

    def toggle_fullscreen(self) -> None:
        if self.fullscreen:
            w, h = self.windowed_size
            glfw.set_window_monitor(self.handle, None, 0, 0, w, h, 0)
            self._place_windowed()
        else:
            mode = glfw.get_video_mode(self.monitor)
            glfw.set_window_monitor(self.handle, self.monitor, 0, 0, mode.size.width,
                                    mode.size.height, mode.refresh_rate)
        self.fullscreen = not self.fullscreen
        # the audience never sees a mouse pointer on a full-screen output
        glfw.set_input_mode(self.handle, glfw.CURSOR,
                            glfw.CURSOR_HIDDEN if self.fullscreen else glfw.CURSOR_NORMAL)

    def _on_key(self, handle, key, scancode, action, mods) -> None:
        if action != glfw.PRESS:
            return
        if key == glfw.KEY_ESCAPE:
            glfw.set_window_should_close(handle, True)
        elif key == glfw.KEY_F:
            self.toggle_fullscreen()
        elif key in self._keys:
            self._keys[key]()

    @property
    def framebuffer_size(self) -> tuple[int, int]:
        return glfw.get_framebuffer_size(self.handle)

    @property
    def should_close(self) -> bool:
        return bool(glfw.window_should_close(self.handle))

    def screen(self) -> moderngl.Framebuffer:
        """The window's framebuffer, with its viewport matching the current size."""
        fb = self.ctx.screen
        w, h = self.framebuffer_size
        fb.viewport = (0, 0, w, h)
        return fb

    def set_title(self, title: str) -> None:
        glfw.set_window_title(self.handle, title)

    def swap(self) -> None:
        glfw.swap_buffers(self.handle)
        glfw.poll_events()

    def destroy(self) -> None:
        glfw.destroy_window(self.handle)
        glfw.terminate()
