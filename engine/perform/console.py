"""The operator console: a window of its own (never an output) with a live thumbnail of every
output and the show's state as text: fps and a frame-time graph, dropped frames, source
health, participants, cues, parameters, blackout/master/freeze, failover, control, recording
and the last errors. Text is a small Pillow image redrawn four times a second; thumbnails
sample the stage's view textures each frame (the window shares the stage's GL objects).
"""

from __future__ import annotations

import time
from collections import deque

import glfw
import moderngl

from engine.outputs.mapped import gl_hints
from engine.outputs.window import WindowError
from engine.perform.config import ConsoleSpec
from engine.perform.console_text import PAGES, console_image
from engine.perform.dim import Dimmer
from engine.perform.state import operator_state
from engine.render.shaders import BoundVao, ShaderCache

BACKGROUND = (0.06, 0.07, 0.09)
TEXT_EVERY = 0.25


class Console:
    def __init__(self, stage, spec: ConsoleSpec, session) -> None:
        self.session, self.spec = session, spec
        gl_hints(visible=True)
        self.handle = glfw.create_window(*spec.size, "Symphony console", None, stage.handle)
        if not self.handle:
            raise WindowError("console: could not create an OpenGL 3.3 window")
        monitors = glfw.get_monitors() or []
        names = [glfw.get_monitor_name(m) for m in monitors]
        names = [n.decode(errors="replace") if isinstance(n, bytes) else str(n) for n in names]
        index = spec.monitor if isinstance(spec.monitor, int) else (
            names.index(spec.monitor) if spec.monitor in names else 0)
        if monitors:
            mx, my, mw, mh = glfw.get_monitor_workarea(monitors[min(index, len(monitors) - 1)])
            glfw.set_window_pos(self.handle, mx + max(0, (mw - spec.size[0]) // 2),
                                my + max(0, (mh - spec.size[1]) // 2))
        glfw.make_context_current(self.handle)
        glfw.swap_interval(0)
        self.ctx = moderngl.create_context(require=330)
        self.shaders = ShaderCache(self.ctx)
        self.blit = BoundVao(self.shaders.get("hud.glsl"), [])
        self.dimmer = Dimmer(self.ctx, self.shaders)
        self._textures: dict[int, moderngl.Texture] = {}
        self._text: moderngl.Texture | None = None
        self._text_at = -1.0
        self.page = 0
        self.frame_ms: deque[float] = deque(maxlen=120)
        self._last = time.perf_counter()
        self.should_close = False
        self.on_key = None  # the venue show's key handler (calibration, patterns, perform keys)
        glfw.set_key_callback(self.handle, self._key)

    def _key(self, handle, key, scancode, action, mods) -> None:
        if action != glfw.PRESS:
            return
        if key == glfw.KEY_TAB:
            self.page = (self.page + 1) % len(PAGES)
            self._text_at = -1.0
        elif self.on_key is not None:
            self.on_key(None, key, mods)

    def _view(self, view) -> moderngl.Texture:
        tex = self._textures.get(view.glo)
        if tex is None or tex.size != tuple(view.size):
            tex = self._textures[view.glo] = self.ctx.external_texture(view.glo, tuple(view.size), 4, 0, "f1")
        return tex

    def draw(self, state) -> None:
        now = time.perf_counter()
        self.frame_ms.append((now - self._last) * 1000.0)
        self._last = now
        glfw.make_context_current(self.handle)
        w, h = glfw.get_framebuffer_size(self.handle)
        if w < 2 or h < 2:
            return
        screen = self.ctx.screen
        screen.viewport = (0, 0, w, h)
        screen.use()
        screen.clear(*BACKGROUND, 1.0)
        thumbs = self._thumbnails(state, w, h)
        text_h = h - thumbs
        if now - self._text_at >= TEXT_EVERY or self._text is None or self._text.size != (w, text_h):
            self._text_at = now
            img = console_image((w, text_h), self.page, state, self.session, list(self.frame_ms))
            data = img.tobytes("raw", "RGBA", 0, -1)  # GL rows start at the bottom
            if self._text is None or self._text.size != img.size:
                if self._text is not None:
                    self._text.release()
                self._text = self.ctx.texture(img.size, 4, dtype="f1")
            self._text.write(data)
        screen.viewport = (0, 0, w, text_h)
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        self._text.use(0)
        self.blit.program["u_overlay"].value = 0
        self.blit.get().render(moderngl.TRIANGLES, vertices=3)
        self.ctx.disable(moderngl.BLEND)
        screen.viewport = (0, 0, w, h)

    def _thumbnails(self, state, w: int, h: int) -> int:
        """Each output's view in a row along the top, dimmed as the outputs are; their height."""
        n = max(len(state.outputs), 1)
        tw = (w - 8 * (n + 1)) // n
        th = min(int(tw * 9 / 16), h // 2)
        gain = operator_state(state.show).gain
        for i, out in enumerate(state.outputs):
            view = state.views.get(out.name)
            if view is None or view.glo == 0:
                continue
            vw, vh = out.framebuffer_size  # the output's own shape, fitted into its box
            fw, fh = (tw, max(int(tw * vh / max(vw, 1)), 1)) if vw * th >= vh * tw else (
                max(int(th * vw / max(vh, 1)), 1), th)
            rect = (8 + i * (tw + 8) + (tw - fw) // 2, h - 8 - th + (th - fh) // 2, fw, fh)
            self.ctx.screen.viewport = rect
            self._view(view).use(0)
            self.blit.program["u_overlay"].value = 0
            self.blit.get().render(moderngl.TRIANGLES, vertices=3)
            self.dimmer.draw(self.ctx.screen, gain)
        return th + 16

    def swap(self) -> None:
        glfw.swap_buffers(self.handle)

    def close(self) -> None:
        glfw.destroy_window(self.handle)
