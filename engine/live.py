"""The live show: a window on a chosen monitor, the real-time clock, and a loop that keeps
drawing through errors in the scene, the source or the renderer.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from engine.clock import RealtimeClock
from engine.outputs.image import save_png
from engine.outputs.window import Window
from engine.recording.recorder import Recorder
from engine.render import Renderer
from engine.render.layouts import Layout, parse_layout
from engine.runtime import Show
from engine.scene import create_scene
from engine.sources import open_source

log = logging.getLogger("symphony")


def run_show(scene_ref: str, source: str = "synthetic", size: tuple[int, int] = (1280, 720),
             monitor: int = 0, fullscreen: bool = False, seed: int = 0, frames: int | None = None,
             seconds: float | None = None, screenshot: str | Path | None = None,
             vsync: bool = True, record: str | Path | None = None,
             layout: str | Layout | None = None) -> int:
    """Run until Esc, the window closes, or the frame/seconds limit; returns frames drawn."""
    layout = parse_layout(layout)  # a bad spec fails before the window opens
    scene = create_scene(scene_ref, seed=seed)
    window = Window(f"Symphony — {scene.title}", size, monitor, fullscreen, vsync)
    drawn = 0
    recorder: Recorder | None = None
    show: Show | None = None
    try:
        renderer = Renderer(window.ctx, window.framebuffer_size, layout=layout)
        with open_source(source, seed=seed) as src:
            show = Show(scene, src, RealtimeClock(), live=True)
            if record is not None:
                recorder = Recorder(record, source)
                recorder.mark(0.0, f"show start: {scene.title}")
                show.taps.append(recorder.write)
            start = last_title = time.perf_counter()
            frame_ms = 0.0
            while not window.should_close:
                t0 = time.perf_counter()
                show.advance()
                fb_size = window.framebuffer_size
                if min(fb_size) >= 2:  # minimised windows have no framebuffer
                    try:
                        renderer.resize(fb_size)
                        renderer.render(scene, target=window.screen())
                    except Exception as exc:  # noqa: BLE001 - keep the show alive
                        show._guard("render", drawn, _raise, exc)
                drawn += 1
                last = (frames is not None and drawn >= frames) or (
                    seconds is not None and time.perf_counter() - start >= seconds)
                if last and screenshot is not None:
                    _save_screenshot(window, screenshot)
                window.swap()
                frame_ms += 0.1 * ((time.perf_counter() - t0) * 1000.0 - frame_ms)
                if time.perf_counter() - last_title > 0.5:
                    last_title = time.perf_counter()
                    window.set_title(_title(scene.title, frame_ms, show))
                if last:
                    break
    finally:
        if recorder is not None:
            recorder.mark(show.last_frame.t if show and show.last_frame else 0.0, "show stop")
            recorder.close()
        window.destroy()
    return drawn


def _raise(exc: Exception) -> None:
    raise exc


def _title(name: str, frame_ms: float, show: Show) -> str:
    fps = 1000.0 / frame_ms if frame_ms > 0 else 0.0
    title = f"Symphony — {name} — {frame_ms:.1f} ms ({fps:.0f} fps)"
    if show.errors:
        title += f" — ERROR ({show.error_count}): {show.errors[-1].message}"
    return title


def _save_screenshot(window: Window, path: str | Path) -> None:
    w, h = window.framebuffer_size
    data = window.screen().read(components=4)
    img = np.frombuffer(data, np.uint8).reshape(h, w, 4)[::-1]
    save_png(Path(path), img)
    log.info("screenshot saved to %s", path)
