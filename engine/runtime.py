"""One frame's path: clock → source → signals → scene.update → solver step.

Rendering and outputs follow in the caller (offline renderer or live window), which keeps
this part free of GL and of any display. In a live show every stage is guarded: an
exception is counted, logged and shown to the operator, and the show keeps drawing.
"""

from __future__ import annotations

import gc
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from engine import kernel_cache
from engine.clock import FixedClock, RealtimeClock
from engine.data import Frame, Glitch, Group
from engine.scene import (
    Scene,
    SceneError,
    apply_bindings,
    describe_exception,
    follow_presence,
    step_scene,
)
from engine.signals import Signals
from engine.sources import Source

log = logging.getLogger("symphony")

FREEZE_HEAP_AT = 90  # live shows: frames of warm-up (kernels, buffers, scene) before gc.freeze()
MAX_CATCH_UP = 1.0  # live: seconds of generated data a source may make up after a stall
MAX_STEP = 0.05  # the solver's largest step: a slow frame (below 20 fps) takes several


@dataclass
class ShowError:
    stage: str
    message: str
    frame: int


class Show:
    def __init__(self, scene: Scene, source: Source, clock: FixedClock | RealtimeClock,
                 live: bool = False) -> None:
        kernel_cache.prepare()  # every runner steps its scene through a Show
        self.scene = scene
        self.source = source
        self.clock = clock
        self.live = live
        if live and hasattr(source, "max_catch_up"):  # a stall must not make the next frame later
            source.max_catch_up = MAX_CATCH_UP
        self.signals = Signals(max_participants=scene.max_participants)
        self.errors: deque[ShowError] = deque(maxlen=20)
        self.error_count = 0
        self.last_frame: Frame | None = None
        self.update_failed = False
        self.clean_frames = 0  # frames in a row without any error: the operator's errors clear
        self._errors_at_start = 0
        self._glitch_total = 0
        self._glitch = 0.0
        # taps see each frame's raw chunks and events before signals do (e.g. a Recorder's write)
        self.taps: list[Callable[[list, list], None]] = []
        # observers see each finished frame (e.g. a features publisher's offer)
        self.observers: list[Callable[[Frame], object]] = []

    def _guard(self, stage: str, index: int, fn, *args):
        if not self.live:
            if stage != "scene.update":
                return fn(*args)
            try:  # offline: stop, saying where in the artist's file, as setup() errors do
                return fn(*args)
            except Exception as exc:
                raise SceneError(f"{type(self.scene).__name__}.update failed at frame {index}: "
                                 f"{describe_exception(exc)}") from exc
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - a live show must keep drawing
            self.report(stage, index, exc)
            return None

    @property
    def failing(self) -> bool:
        """Errors in this frame (its advance, render or outputs): what the operator sees of
        them clears on the first good frame."""
        return self.error_count > self._errors_at_start

    def report(self, stage: str, index: int, exc: BaseException) -> None:
        """Count, log (once per distinct message in a row) and keep an error for the operator."""
        self.error_count += 1
        msg = f"{stage}: {describe_exception(exc)}"
        if not self.errors or self.errors[-1].message != msg:
            log.error("%s", msg)
        self.errors.append(ShowError(stage, msg, index))

    def advance(self) -> Frame:
        # the previous frame (advance, render, outputs) was clean if it reported nothing
        self.clean_frames = self.clean_frames + 1 if self.error_count == self._errors_at_start else 0
        self._errors_at_start = self.error_count
        tick = self.clock.tick()
        if self.live and tick.index == FREEZE_HEAP_AT:
            # the warm-up's objects live for the whole show: move them out of the collector's
            # reach, so a full collection no longer stalls a frame for 150-180 ms (the soak's
            # worst frames); freed objects still go by reference counting
            gc.freeze()
        polled = self._guard("source", tick.index, self.source.poll, tick.t)
        chunks, events = polled if polled is not None else ([], [])
        for tap in self.taps:
            self._guard("recorder", tick.index, tap, chunks, events)
        frame = self._guard("signals", tick.index, self.signals.update, chunks, events, tick.t,
                            tick.index, tick.dt)
        if frame is None:
            frame = Frame(tick.index, tick.t, tick.dt, [], [], Group())
        fill = getattr(self.source, "fill_frame", None)  # sources of derived state (the network hub)
        if fill is not None:
            self._guard("source", tick.index, fill, frame)
        self._count_glitches(frame)
        self._guard("bindings", tick.index, apply_bindings, self.scene, frame)
        self._guard("presence", tick.index, follow_presence, self.scene, frame)
        errors_before = self.error_count
        self._guard("scene.update", tick.index, self.scene.update, frame)
        self.update_failed = self.error_count != errors_before
        steps = max(1, math.ceil(tick.dt / MAX_STEP - 1e-9))
        for _ in range(steps):
            self._guard("solver", tick.index, step_scene, self.scene, tick.dt / steps)
        self.last_frame = frame
        for observe in self.observers:
            self._guard("observer", tick.index, observe, frame)
        return frame

    def _count_glitches(self, frame: Frame) -> None:
        """Bad input never stops the show, but scenes may show it: rejections since the last
        frame, and a smooth envelope of them."""
        rejects = getattr(self.source, "rejects", None)
        # `glitches`: bad data, not messages meant for another port (control on the data port)
        total = (getattr(rejects, "glitches", rejects.rejected) if rejects is not None else 0) + sum(
            self.signals.rejected.values())
        count = max(total - self._glitch_total, 0)
        self._glitch_total = total
        # bad samples per second, smoothed over 0.5 s (a burst counts at once), on a log scale
        self._glitch = (self._glitch + count / 0.5) * math.exp(-frame.dt / 0.5)
        frame.glitch = Glitch(Glitch.level_of(self._glitch), count)
