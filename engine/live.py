"""The live show: a window on a chosen monitor, the real-time clock, and a loop that keeps
drawing through errors in the scene, the source or the renderer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.clock import RealtimeClock
from engine.hud import Hud, source_alarms
from engine.outputs.image import save_png
from engine.outputs.window import Window
from engine.recording.recorder import Recorder
from engine.recording.show_record import next_frame, record_show
from engine.recording.show_streams import ShowStreams
from engine.reload import SceneReloader
from engine.render import Renderer
from engine.render.layouts import Layout, parse_layout
from engine.runtime import Show
from engine.scene import create_scene
from engine.sources import open_source
from engine.venue import Venue, default_venue

log = logging.getLogger("symphony")


def run_show(scene_ref: str, source: str | None = "synthetic", size: tuple[int, int] = (1280, 720),
             monitor: int = 0, fullscreen: bool = False, seed: int | None = 0, frames: int | None = None,
             seconds: float | None = None, screenshot: str | Path | None = None,
             vsync: bool = True, record: str | Path | None = None,
             layout: str | Layout | None = None,
             on_frame: Callable[[LiveState], bool | None] | None = None,
             venue: str | Path | Venue | None = None, pattern: str | None = None,
             publish: str | None = None, on_start: Callable[[Show], None] | None = None,
             hud: bool = True, render_scale: float = 1.0) -> int:
    """Run until Esc, the window closes, or the frame/seconds limit; returns frames drawn.

    `on_frame(state)` runs after each frame is drawn (before it is shown): scripts and tests
    use it to look at the output or steer the show; returning True ends the show.
    With `venue` (a venue file) the show drives that venue's outputs and `screenshot` is a
    folder (engine.venue.show); a calibration `pattern` runs a one-output venue without one.
    `hud=False` starts with the overlay hidden (H shows it). `render_scale` (0.1..1) draws the
    scene at that fraction of the window's size and upscales it (not with a venue).
    """
    if render_scale != 1.0 and (venue is not None or pattern is not None):
        raise ValueError("a render scale below 1 is for a plain window, not a venue or pattern")
    if venue is not None or pattern is not None:
        from engine.venue.show import run_venue_show

        if venue is None:
            venue = default_venue(size, monitor, fullscreen, layout if isinstance(layout, str) else "flat")
        return run_venue_show(venue, scene_ref, source, seed, frames, seconds, screenshot, vsync, record,
                              pattern, size, on_frame, publish=publish)
    source, seed = source or "synthetic", seed or 0
    layout_spec = layout if isinstance(layout, str) else getattr(layout, "name", "flat")
    layout = parse_layout(layout)  # a bad spec fails before the window opens
    scene = create_scene(scene_ref, seed=seed)
    reloader = SceneReloader(scene_ref, seed)
    window = Window(f"Symphony — {scene.title}", size, monitor, fullscreen, vsync)
    drawn = 0
    recorder: Recorder | None = None
    streams = None
    show: Show | None = None
    publisher = None
    try:
        renderer = Renderer(window.ctx, window.framebuffer_size, layout=layout, render_scale=render_scale)
        overlay = Hud(window.ctx, renderer.shaders)
        overlay.visible = hud
        window.on_key("h", lambda: setattr(overlay, "visible", not overlay.visible))
        patterns = _PatternKey(window)  # P: calibration patterns (grid, white, ramp) in place of the scene
        shader_errors: list[str] = []
        next_shader_check = 0.0
        with open_source(source, seed=seed) as src:
            show = Show(scene, src, RealtimeClock(), live=True)
            if publish:
                from engine.network.publisher import FeaturePublisher

                publisher = FeaturePublisher(publish)
                show.observers.append(publisher.offer)
            if on_start is not None:  # e.g. a render-node lead gathering its followers
                on_start(show)
            if record is not None:
                recorder = Recorder(record, source)
                recorder.mark(0.0, f"show start: {scene.title}")
                streams = record_show(recorder, show, src, reloader.path, seed=seed, size=list(size),
                                      layout=layout_spec, venue=None)
            start = last_title = time.perf_counter()
            frame_ms = 0.0
            while not window.should_close:
                t0 = time.perf_counter()
                reloaded = reloader.poll(show)
                if reloaded and streams is not None:  # the code that runs from this frame on
                    streams.scene(*next_frame(show),
                                  reloader.path, reloader.code)
                frame = show.advance()
                if reloaded:
                    on_probation = show.scene
                    reloader.after_frame(show)
                    if show.scene is not on_probation:
                        renderer.prune(show.scene)
                        if streams is not None:
                            streams.rollback(frame.index, frame.t, "probation")
                if reloader.watch(show):
                    renderer.prune(show.scene)
                    if streams is not None:
                        streams.rollback(frame.index, frame.t, "watch")
                if streams is not None:
                    streams.tick(frame)
                if t0 >= next_shader_check:
                    next_shader_check = t0 + 0.25
                    shader_errors = renderer.reload_shaders()
                fb_size = window.framebuffer_size
                if min(fb_size) >= 2:  # minimised windows have no framebuffer
                    screen = window.screen()
                    try:
                        renderer.resize(fb_size)
                        if not patterns.draw(screen, fb_size):
                            renderer.render(show.scene, target=screen)
                    except Exception as exc:  # noqa: BLE001 - keep the show alive
                        show.report("render", drawn, exc)
                    errors = _operator_errors(show, reloader, shader_errors)
                    overlay.draw(screen, _status(show, frame_ms), errors)
                drawn += 1
                last = (frames is not None and drawn >= frames) or (
                    seconds is not None and time.perf_counter() - start >= seconds)
                if on_frame is not None and on_frame(LiveState(drawn, window, show, reloader,
                                                                renderer, shader_errors, streams)):
                    last = True
                if last and screenshot is not None:
                    _save_screenshot(window, screenshot)
                window.swap()
                frame_ms += 0.1 * ((time.perf_counter() - t0) * 1000.0 - frame_ms)
                if time.perf_counter() - last_title > 0.5:
                    last_title = time.perf_counter()
                    window.set_title(_title(show.scene.title, frame_ms, show, reloader,
                                            shader_errors))
                if last:
                    break
    finally:
        if publisher is not None:
            publisher.close()
        if recorder is not None:
            recorder.mark(show.last_frame.t if show and show.last_frame else 0.0, "show stop")
            recorder.close()
        window.destroy()
    return drawn


class _PatternKey:
    """Key P cycles the calibration patterns of venue outputs (engine.venue) on this window."""

    def __init__(self, window: Window) -> None:
        self.window, self.index, self.mapping = window, 0, None
        window.on_key("p", self.cycle)

    def cycle(self) -> None:
        from engine.outputs.mapping_pass import PATTERNS

        self.index = (self.index + 1) % len(PATTERNS)
        log.info("pattern: %s", PATTERNS[self.index])

    def draw(self, screen, size: tuple[int, int]) -> bool:
        if self.index == 0:
            return False
        if self.mapping is None:
            from engine.outputs.mapping_pass import MappingPass
            from engine.venue import OutputSpec

            self.mapping = MappingPass(self.window.ctx, OutputSpec("main"))
        self.mapping.draw(screen, size, None, self.index)
        return True


@dataclass
class LiveState:
    """What `on_frame` sees of the running show."""

    frame: int
    window: Window
    show: Show
    reloader: SceneReloader
    renderer: Renderer
    shader_errors: list[str]
    streams: ShowStreams | None = None  # the show recording's own streams, with --record

    def pixels(self) -> np.ndarray:
        """The window's current image, (h, w, 4) uint8, top row first."""
        return read_screen(self.window)


def _operator_errors(show: Show, reloader: SceneReloader, shader_errors: list[str]) -> list[str]:
    """What the operator must see: a failed reload, shader errors, runtime errors while they
    last (cleared on the first clean frame)."""
    out = [reloader.error] if reloader.error else []
    out += [e.splitlines()[0] + (" " + e.splitlines()[1] if len(e.splitlines()) > 1 else "")
            for e in shader_errors]
    if show.failing:
        out.append(f"{show.errors[-1].message} (errors so far: {show.error_count})")
    return out + source_alarms(show.source)  # a source that gave up stays red until the end


def _status(show: Show, frame_ms: float) -> str:
    f = show.last_frame
    fps = 1000.0 / frame_ms if frame_ms > 0 else 0.0
    stale = f.group.count - f.group.present if f else 0
    people = (f"{f.group.present} present" + (f", {stale} stale" if stale else "")
              + f", sync {f.group.synchrony:.2f}") if f else "no data"
    return f"{show.scene.title} | {frame_ms:.1f} ms ({fps:.0f} fps) | {people} | H: hide"


def _title(name: str, frame_ms: float, show: Show, reloader: SceneReloader,
           shader_errors: list[str]) -> str:
    fps = 1000.0 / frame_ms if frame_ms > 0 else 0.0
    title = f"Symphony — {name} — {frame_ms:.1f} ms ({fps:.0f} fps)"
    errors = _operator_errors(show, reloader, shader_errors)
    if errors:
        title += f" — ERROR: {errors[0]}"
    return title


def read_screen(window: Window) -> np.ndarray:
    w, h = window.framebuffer_size
    # the real framebuffer size: the screen object keeps the size the window was created with
    data = window.screen().read(viewport=(0, 0, w, h), components=4)
    return np.frombuffer(data, np.uint8).reshape(h, w, 4)[::-1].copy()


def _save_screenshot(window: Window, path: str | Path) -> None:
    save_png(Path(path), read_screen(window))
    log.info("screenshot saved to %s", path)
