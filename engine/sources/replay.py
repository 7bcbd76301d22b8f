"""Replay a recorded session (XDF, CSV, EDF/BDF) as if it were live.

`poll(now)` returns every sample whose time falls in (previous now, now] scaled by `speed`,
so a live show replays in real time and an offline render at its fixed step, with identical
results for identical steps. Symphony's own recordings keep their show times; other files
are shifted so their first sample is at 0. `loop=1` starts over at the end.
"""

from __future__ import annotations

import numpy as np

from engine.data import Chunk, Event
from engine.sources.base import Source, SourceError


class ReplaySource(Source):
    kind = "replay"
    options = {"path": str, "speed": float, "loop": int, "participant": str}
    description = "replay a recording: replay:PATH[?speed=1&loop=0] (.xdf, .csv, .edf, .bdf)"

    def __init__(self, path: str = "", speed: float = 1.0, loop: int = 0, participant: str = "p00") -> None:
        from engine.recording.readers import load_recording

        if not path:
            raise SourceError("source 'replay': give a file, e.g. replay:session.xdf")
        if not speed > 0:
            raise SourceError("source 'replay': speed must be positive")
        self.recording = load_recording(path, participant)
        if not self.recording.series and not self.recording.events:
            raise SourceError(f"source 'replay': {path} holds no channels Symphony knows")
        shift = 0.0 if self.recording.show_clock else self.recording.start()
        self.series = [(s.participant, s.channel, s.t - shift, s.v) for s in self.recording.series]
        events = sorted(self.recording.events, key=lambda e: e.t)
        self.events = [Event(e.t - shift, e.kind, e.participant, e.value) for e in events]
        self.event_t = np.array([e.t for e in self.events], np.float64)
        ends = [s[2][-1] for s in self.series if s[2].size] + list(self.event_t[-1:])
        self.duration = float(max(ends)) if ends else 0.0
        self.speed = speed
        self.loop = bool(loop)
        self._last = -np.inf
        self._lap = 0

    def _window(self, lo: float, hi: float, offset: float) -> tuple[list[Chunk], list[Event]]:
        chunks = []
        for pid, channel, t, v in self.series:
            a, b = np.searchsorted(t, [lo, hi], side="right")
            if b > a:
                chunks.append(Chunk(pid, channel, t[a:b] + offset, v[a:b]))
        a, b = np.searchsorted(self.event_t, [lo, hi], side="right")
        events = [Event(e.t + offset, e.kind, e.participant, e.value) for e in self.events[a:b]]
        return chunks, events

    def poll(self, now: float) -> tuple[list[Chunk], list[Event]]:
        hi = now * self.speed
        if not self.loop or self.duration <= 0:
            lo, self._last = self._last, hi
            return self._window(lo, hi, 0.0)
        chunks: list[Chunk] = []
        events: list[Event] = []
        period = self.duration + 1.0 / 64  # a short gap keeps laps from overlapping
        while True:
            base = self._lap * period
            lo = self._last - base
            end = min(hi - base, period)
            c, e = self._window(lo, end, base)
            chunks += c
            events += e
            if hi - base < period:
                self._last = hi
                return chunks, events
            self._lap += 1
            self._last = self._lap * period - 1e-12
