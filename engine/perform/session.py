"""A perform session: what perform mode adds to a venue show, as hooks the venue loop calls
at fixed points of each frame (engine.venue.show):

    before_frame  (operator actions from OSC, cue dips and glides, blackout fade)
    → show.advance → [frozen: keep the last views] → outputs draw → after_output (master,
    blackout) → console → after_frame (state file, show log) → swap

The state file (`--state`) is written at least once a second, atomically; a restarted show
reads it back through the same dispatch (cue, parameters, blackout, master, freeze, failover).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import glfw

from engine.perform.actions import Dispatcher, ShowLog
from engine.perform.config import PerformConfig, parse_perform
from engine.perform.control import ControlError, ControlReceiver
from engine.perform.cues import SceneSwitcher
from engine.perform.dim import Dimmer
from engine.perform.failover import FailoverSource
from engine.perform.keys import QuitGuard, key_action
from engine.perform.state import operator_state, read_state, write_state
from engine.scene import param_state
from engine.venue.config import Venue

log = logging.getLogger("symphony.perform")

STATE_EVERY = 0.5  # seconds between state file writes


class PerformSession:
    def __init__(self, venue: Venue, state_path: str | Path | None = None,
                 log_path: str | Path | None = None, resume: bool = True,
                 config: PerformConfig | None = None, control: ControlReceiver | None = None) -> None:
        self.venue = venue
        self.config = config or parse_perform(venue)
        self.state_path = Path(state_path) if state_path else None
        if log_path is None and self.state_path is not None:
            log_path = self.state_path.with_suffix(".log")
        self.showlog = ShowLog(Path(log_path) if log_path else None)
        self.resume_doc = read_state(self.state_path) if resume and self.state_path else None
        self.control = control or (ControlReceiver(self.config.control) if self.config.control else None)
        self.failover: FailoverSource | None = None
        self.dispatcher: Dispatcher | None = None
        self.quit = QuitGuard(time.monotonic)
        self.quit_requested = False
        self.console = None
        self._dimmers: dict[str, Dimmer] = {}
        self._state_at = 0.0
        self._state_count = 0
        self._drawn = False
        self._failover_seen = 0
        self.record_size = None  # callable: bytes recorded so far (the console shows it)

    # --- set-up ----------------------------------------------------------------------------
    def companions(self, stage) -> list:
        if self.config.console is None:
            return []
        from engine.perform.console import Console

        self.console = Console(stage, self.config.console, self)
        return [self.console]

    def wrap_source(self, src, seed: int):
        if self.config.failover is None:
            return src
        self.failover = FailoverSource(src, self.config.failover, seed)
        self.failover.start()
        return self.failover

    def start(self, show, reloader, seed: int, streams=None) -> None:
        """The show exists: build the dispatch, then resume from the state file if any."""
        if self.failover is not None:  # participants stay until failover has taken over
            show.signals.stale_after = max(show.signals.stale_after,
                                           self.config.failover.stale_after + self.config.failover.crossfade)
        safe = self.config.failover.safe_scene if self.config.failover else None

        def on_scene(path: Path) -> None:
            if streams is not None:
                f = show.last_frame
                streams.scene(f.index + 1 if f else 0, f.t if f else 0.0, path, path.read_text(), how="cue")

        self.scenes = SceneSwitcher(show, reloader, seed, safe, on_scene)
        self.dispatcher = Dispatcher(self.config, show, self.showlog, self.scenes)
        self.dispatcher.failover, self.dispatcher.streams = self.failover, streams
        self.show = show
        if self.control is not None:
            operator_state(show).fade = self.config.control.fade
        self.showlog.write("start", pid=os.getpid(), venue=self.venue.label,
                           resumed=self.resume_doc is not None)
        if self.resume_doc:
            self._resume(self.resume_doc)

    def _resume(self, doc: dict) -> None:
        d, op = self.dispatcher, operator_state(self.show)
        if isinstance(doc.get("cue"), int) and doc["cue"] >= 0:
            d.dispatch("cue", {"go": doc["cue"], "fade": 0.0}, origin="resume")
            self.scenes.advance(1.0)  # a scene change swaps now, not after a dip
            self.scenes.advance(1.0)
        for name, value in (doc.get("params") or {}).items():
            if d.dispatch("param", {"name": name, "value": value}, origin="resume"):
                param_state(self.show.scene, name).value = param_state(self.show.scene, name).target
        d.dispatch("master", {"value": doc.get("master", 1.0)}, origin="resume")
        if doc.get("blackout"):
            d.dispatch("blackout", {"on": True}, origin="resume")
            op.level = 0.0
        if doc.get("freeze"):
            d.dispatch("freeze", {"on": True}, origin="resume")
        if self.failover is not None and doc.get("failover_forced"):
            d.dispatch("failover", {"on": True}, origin="resume")
        log.info("resumed from %s: cue %s, frame %s of pid %s", self.state_path, doc.get("cue"),
                 doc.get("frame"), doc.get("pid"))

    # --- each frame ----------------------------------------------------------------------------
    def before_frame(self) -> None:
        d = self.dispatcher
        if self.control is not None:
            try:
                actions = self.control.poll()
            except ControlError as exc:  # the port could not be had: the show goes on without
                log.error("%s: OSC control is off", exc)
                self.showlog.write("error", message=f"OSC control off: {exc}")
                self.control, actions = None, []
            for kind, payload in actions:
                d.dispatch(kind, payload, origin="osc")
        f = self.show.last_frame
        dt = f.dt if f is not None else 0.0
        self.scenes.advance(dt)
        operator_state(self.show).advance(dt, self.show.scene)

    @property
    def frozen(self) -> bool:
        return operator_state(self.show).freeze

    def after_output(self, output) -> None:
        dimmer = self._dimmers.get(output.name)
        if dimmer is None:
            dimmer = self._dimmers[output.name] = Dimmer(output.ctx, output.mapping.shaders)
        dimmer.draw(output.ctx.screen, operator_state(self.show).gain)

    def after_frame(self, frame_index: int, outputs=()) -> None:
        if not self._drawn:
            self._drawn = True
            self.showlog.write("drawing", pid=os.getpid())
        if self.failover is not None and len(self.failover.events) > self._failover_seen:
            for event in self.failover.events[self._failover_seen:]:
                self.showlog.write("failover", event=event)
            self._failover_seen = len(self.failover.events)
        now = time.monotonic()
        acted = self.dispatcher.count != self._state_count  # an action is saved in its own frame
        if self.state_path is not None and (acted or now - self._state_at >= STATE_EVERY):
            self._state_at, self._state_count = now, self.dispatcher.count
            write_state(self.state_path, self.state(frame_index, outputs))

    def state(self, frame_index: int, outputs=()) -> dict:
        op, d = operator_state(self.show), self.dispatcher
        return {"cue": d.cue, "cue_name": self.config.cues[d.cue].name if d.cue >= 0 else None,
                "scene": str(self.scenes.current), "params": self.show.scene.preset(),
                "blackout": op.blackout, "master": op.master, "freeze": op.freeze,
                "failover": self.failover.active if self.failover else None,
                "failover_forced": bool(self.failover and self.failover.forced),
                "frame": frame_index, "pid": os.getpid(), "time": time.time(),
                "outputs": {o.name: {"position": list(o.position), "fullscreen": o.fullscreen,
                                     "monitor": o.home_monitor_name} for o in outputs}}

    # --- keys ----------------------------------------------------------------------------------
    def key(self, key: int) -> bool:
        """An operator key from any window; True if perform mode handled it."""
        if key == glfw.KEY_ESCAPE:
            if self.quit.press():
                self.quit_requested = True
                self.showlog.write("quit", origin="key")
            else:
                log.warning("press Esc again within 2 s to end the show")
            return True
        action = key_action(key, operator_state(self.show),
                            bool(self.failover and self.failover.forced))
        if action is None:
            return False
        self.dispatcher.dispatch(*action, origin="key")
        return True

    def close(self) -> None:
        if self.control is not None:
            self.control.close()
        if self.failover is not None:
            self.failover.stop()
