"""Injectable clocks: the only place the engine asks what time it is.

Offline renders use `FixedClock` so every frame lands on an exact multiple of the step and
the output does not depend on how fast the machine is; live shows use `RealtimeClock`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tick:
    index: int  # frame number, from 0
    t: float  # seconds since the show started
    dt: float  # seconds since the previous tick


class FixedClock:
    """Frame i happens at exactly i / fps seconds."""

    def __init__(self, fps: float) -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.fps = float(fps)
        self._index = 0

    def tick(self) -> Tick:
        i = self._index
        self._index += 1
        return Tick(i, i / self.fps, 1.0 / self.fps)


class RealtimeClock:
    """Wall-clock time, with dt clamped so a stall (a drag, a breakpoint) is not a jump. Slow
    frames are not a stall: up to `max_dt` the show follows the wall clock (the runtime
    substeps the solver), so heartbeats and the simulation stay in step at any frame rate."""

    def __init__(self, now: Callable[[], float] = time.perf_counter, max_dt: float = 1.0) -> None:
        self._now = now
        self._max_dt = max_dt
        self._start: float | None = None
        self._last = 0.0
        self._index = 0

    def tick(self) -> Tick:
        now = self._now()
        if self._start is None:
            self._start = now
        t = now - self._start
        dt = min(max(t - self._last, 0.0), self._max_dt) if self._index else 1.0 / 60.0
        self._last = t
        i = self._index
        self._index += 1
        return Tick(i, t, dt)
