"""A live show on a venue's outputs: one simulation, each distinct view rendered once, every
output warped, blended and masked in one pass, all swapped together.

The frame reads top-down: clock → source → scene.update → solver (show.advance) → upload and
render the views (stage) → each output draws its mapping → screenshots → swap all → events
(keys, calibration, monitors). Errors in the scene, the source or a render are counted and
logged and the outputs keep drawing; the audience never sees an error message (only the
calibration overlay, which the operator turns on, shows text).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import glfw
import numpy as np

from engine.clock import FixedClock, RealtimeClock
from engine.outputs.image import save_png
from engine.outputs.mapped import PATTERNS, Output, ViewImage
from engine.outputs.window import init_glfw, monitors
from engine.recording.recorder import Recorder
from engine.recording.show_record import next_frame, record_show
from engine.reload import SceneReloader
from engine.runtime import Show
from engine.scene import create_scene
from engine.sources import open_source
from engine.venue.calibrate import Calibrator
from engine.venue.config import Venue, VenueError, load_venue, resolve_monitor
from engine.venue.hotplug import Hotplug
from engine.venue.stage import Stage

log = logging.getLogger("symphony.venue")


@dataclass
class VenueState:
    """What `on_frame` sees of a running venue show."""

    frame: int
    outputs: list[Output]
    show: Show
    stage: Stage
    calibrator: Calibrator
    hotplug: Hotplug
    pattern: str
    views: dict[str, ViewImage] = field(default_factory=dict)  # what each output showed, by name

    def output(self, name: str) -> Output:
        return next(o for o in self.outputs if o.name == name)

    def pixels(self, name: str) -> np.ndarray:
        """What output `name` shows this frame, (h, w, 4) uint8, top row first."""
        return self.output(name).read()


class Companion(Protocol):
    """Another window sharing the stage's GL objects (an operator console, a preview): made
    by `companions(stage)` once the stage exists (create its GLFW window with
    `share=stage.handle` to sample the views), drawn after the outputs each frame, swapped
    with them. Its errors are its own: the show loop does not catch them."""

    should_close: bool

    def draw(self, state: VenueState) -> None: ...

    def swap(self) -> None: ...

    def close(self) -> None: ...


def pattern_index(pattern: str | None) -> int:
    name = (pattern or "none").lower()
    if name not in PATTERNS:
        raise VenueError(f"unknown pattern '{pattern}' (patterns: {', '.join(PATTERNS[1:])})")
    return PATTERNS.index(name)


def run_venue_show(venue: str | Path | Venue, scene_ref: str | None = None, source: str | None = None,
                   seed: int | None = None, frames: int | None = None, seconds: float | None = None,
                   screenshot: str | Path | None = None, vsync: bool = True,
                   record: str | Path | None = None, pattern: str | None = None,
                   default_size: tuple[int, int] = (1280, 720),
                   on_frame: Callable[[VenueState], bool | None] | None = None,
                   companions: Callable[[Stage], list[Companion]] | None = None,
                   perform=None, publish: str | None = None,
                   clock: FixedClock | RealtimeClock | None = None) -> int:
    """Run until Esc, a window closes, or the frame/seconds limit; returns frames drawn.
    `screenshot` is a folder: each output's last frame is saved there as `<name>.png`.
    `perform` (engine.perform.session.PerformSession) adds the operator's console, keys,
    OSC control, cues, failover and state file at fixed points of the frame. `clock` defaults
    to the wall clock; tests inject a FixedClock so every run draws the same frames."""
    venue = venue if isinstance(venue, Venue) else load_venue(venue)
    scene_ref = scene_ref or venue.scene
    if not scene_ref:
        raise VenueError(f"{venue.label}: show.scene: no scene given (on the command line or in [show])")
    source = source or venue.source or "synthetic"
    seed = seed if seed is not None else (venue.seed or 0)
    current_pattern = pattern_index(pattern)
    scene = create_scene(scene_ref, seed=seed)
    reloader = SceneReloader(scene_ref, seed)
    init_glfw()
    stage: Stage | None = None
    outputs: list[Output] = []
    drawn = 0
    recorder: Recorder | None = None
    show: Show | None = None
    publisher = None
    hotplug: Hotplug | None = None
    extra: list[Companion] = []
    try:
        found = monitors()
        homes = [resolve_monitor(venue, spec, found) for spec in venue.outputs]  # before any window
        stage = Stage(venue)
        handles = glfw.get_monitors()
        for spec, home in zip(venue.outputs, homes, strict=True):
            # vsync on the first output only: every swap waiting for its own blank would
            # divide the frame rate by the number of outputs
            outputs.append(Output(spec, handles[home], stage.handle, default_size, vsync and not outputs))
        extra = companions(stage) if companions is not None else []
        extra += perform.companions(stage) if perform is not None else []
        calibrator = Calibrator(venue, outputs)
        hotplug = Hotplug(outputs)
        flags = {"pattern": current_pattern}

        def on_key(output: Output, key: int, mods: int) -> None:
            if calibrator.key(output, key, mods):
                return
            if key == glfw.KEY_C and perform is not None:  # calibration stays on the outputs
                calibrator.toggle()
            elif perform is not None and perform.key(key):
                return
            elif key == glfw.KEY_ESCAPE:
                glfw.set_window_should_close(output.handle, True)
            elif key == glfw.KEY_F and output is not None and output.monitor is not None:
                output.toggle_fullscreen()
            elif key == glfw.KEY_C:
                calibrator.toggle()
            elif key == glfw.KEY_P:
                flags["pattern"] = (flags["pattern"] + 1) % len(PATTERNS)
                log.info("pattern: %s", PATTERNS[flags["pattern"]])

        for o in outputs:
            o.on_key, o.on_mouse = on_key, calibrator.mouse
        last_errors: list[str] = []
        if perform is not None and perform.console is not None:
            perform.console.on_key = on_key
        streams = None
        views: dict[str, ViewImage] = {}
        with open_source(source, seed=seed) as live_src:
            src = perform.wrap_source(live_src, seed) if perform is not None else live_src
            show = Show(scene, src, clock or RealtimeClock(), live=True)
            if publish:  # the Alcove's features to the network (engine/network)
                from engine.network.publisher import FeaturePublisher

                publisher = FeaturePublisher(publish)
                show.observers.append(publisher.offer)
            if record is not None:
                recorder = Recorder(record, source)
                recorder.mark(0.0, f"show start: {scene.title} on {venue.label}")
                streams = record_show(recorder, show, src, reloader.path, seed=seed, size=list(default_size),
                                      layout=venue.outputs[0].layout, venue=venue.label)
            if perform is not None:
                perform.start(show, reloader, seed, streams)
            start = time.perf_counter()
            next_shader_check = 0.0
            shader_errors: list[str] = []
            while not any(w.should_close for w in (*outputs, *extra)) and not (
                    perform is not None and perform.quit_requested):
                t0 = time.perf_counter()
                reloaded = reloader.poll(show)
                if reloaded and streams is not None:  # the code that runs from this frame on
                    streams.scene(*next_frame(show),
                                  reloader.path, reloader.code)
                if perform is not None:
                    perform.before_frame()  # OSC actions, cue dips and glides, blackout fade
                frame = show.advance()
                if reloaded:
                    on_probation = show.scene
                    reloader.after_frame(show)
                    if show.scene is not on_probation:
                        stage.renderer.prune(show.scene)
                        if streams is not None:
                            streams.rollback(frame.index, frame.t, "probation")
                if reloader.watch(show):
                    stage.renderer.prune(show.scene)
                    if streams is not None:
                        streams.rollback(frame.index, frame.t, "watch")
                if streams is not None:
                    streams.tick(frame)
                if t0 >= next_shader_check:
                    next_shader_check = t0 + 0.25
                    shader_errors = stage.renderer.reload_shaders()
                    for o in outputs:  # output_map.glsl too, edited live like every shader
                        shader_errors += o.mapping.shaders.reload_changed()
                if perform is not None and perform.frozen and flags["pattern"] == 0 and views:
                    pass  # freeze: the outputs keep showing the last views (the show runs on)
                elif flags["pattern"] == 0:
                    try:
                        views = stage.render(show.scene, outputs)
                    except Exception as exc:  # noqa: BLE001 - keep the show alive
                        show.report("render", drawn, exc)
                else:
                    views = {o.name: v for o, v in ((o, stage.pattern_view(o)) for o in outputs)}
                errors = _errors(show, reloader, shader_errors, hotplug)
                if errors != last_errors and errors:
                    log.error("%s", errors[-1])
                last_errors = errors
                for o in outputs:
                    try:
                        o.draw(views.get(o.name), flags["pattern"])
                        if perform is not None:
                            perform.after_output(o)  # master and blackout, on outputs only
                        if calibrator.active and o is calibrator.output:
                            o.draw_handles(calibrator.handles(), calibrator.point)
                            o.draw_hud(calibrator.status(), errors)
                    except Exception as exc:  # noqa: BLE001 - one output's trouble stops no show
                        show.report(f"output {o.name}", drawn, exc)
                drawn += 1
                last = (frames is not None and drawn >= frames) or (
                    seconds is not None and time.perf_counter() - start >= seconds)
                state = VenueState(drawn, outputs, show, stage, calibrator, hotplug,
                                   PATTERNS[flags["pattern"]], views)
                for window in extra:
                    window.draw(state)
                if perform is not None:
                    perform.after_frame(frame.index, outputs)
                if on_frame is not None and on_frame(state):
                    last = True
                if last and screenshot is not None:
                    save_screenshots(outputs, Path(screenshot), single=venue.path is None)
                for o in outputs:
                    o.swap()
                for window in extra:
                    window.swap()
                glfw.poll_events()
                hotplug.poll()
                if last:
                    break
        for o in outputs:
            if o.dropped:
                log.info("output '%s': %d dropped frames (monitor refreshes without a new frame) "
                         "over %d frames", o.name, o.dropped, o.frames)
    finally:
        if perform is not None:
            perform.close()
        if publisher is not None:
            publisher.close()
        if recorder is not None:
            recorder.mark(show.last_frame.t if show and show.last_frame else 0.0, "show stop")
            recorder.close()
        if hotplug is not None:
            hotplug.close()
        for window in (*outputs, *extra):
            window.close()
        if stage is not None:
            stage.close()
        glfw.terminate()
    return drawn


def save_screenshots(outputs: list[Output], folder: Path, single: bool = False) -> None:
    """Each output's frame as `folder/<name>.png`; a plain show (no venue file) given a
    `.png` path saves its one output there, as the single-window show does."""
    if single and len(outputs) == 1 and folder.suffix.lower() == ".png":
        save_png(folder, outputs[0].read())
        return
    folder.mkdir(parents=True, exist_ok=True)
    for o in outputs:
        save_png(folder / f"{o.name}.png", o.read())
    log.info("screenshots of %d outputs saved to %s", len(outputs), folder)


def _errors(show: Show, reloader: SceneReloader, shader_errors: list[str], hotplug: Hotplug) -> list[str]:
    out = [reloader.error] if reloader.error else []
    out += [e.splitlines()[0] for e in shader_errors]
    if show.failing:  # cleared on the first clean frame
        out.append(f"{show.errors[-1].message} (errors so far: {show.error_count})")
    return out + hotplug.events[-2:]
