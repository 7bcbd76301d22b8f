"""Signals: fold raw chunks and events into the per-frame state scenes read.

Everything here is causal (only past samples are used) so it behaves the same live and on
replay. Per participant it keeps each channel's latest and exponentially smoothed value, a
heartbeat envelope, and a breathing phase estimated from the respiration waveform; per group
it computes presence, channel means and spreads, and the Kuramoto order parameter of the
breathing phases (1 = everyone breathes together).
"""

from __future__ import annotations

import math

import numpy as np

from engine.data import CHANNELS, Chunk, Event, Frame, Group, Participant

BEAT_DECAY = 0.12  # seconds: how fast the heartbeat glow fades
BREATH_WINDOW = 8.0  # seconds: time constant of the respiration baseline and amplitude


class BreathTracker:
    """Causal breathing phase and rate from a respiration waveform.

    For a breath x = m + A·cos(φ) the derivative is −A·ω·sin(φ), so φ = atan2(−ẋ/ω, x − m),
    with the baseline m and amplitude A tracked by slow exponential averages and ω from the
    intervals between upward crossings of the baseline.
    """

    def __init__(self) -> None:
        self.mean = 0.0
        self.amp = 1.0
        self.rate = 14.0  # breaths per minute
        self.phase = 0.0
        self.value = 0.0
        self.deriv = 0.0
        self._last_t: float | None = None
        self._last_x = 0.0
        self._above = False
        self._last_cross: float | None = None
        self._count = 0
        self.breaths: list[float] = []  # times of completed breaths since the last drain
        self.first_t: float | None = None

    def ready(self, now: float) -> bool:
        """True once a couple of seconds of waveform have settled the baseline."""
        return self.first_t is not None and now - self.first_t >= 2.0

    def push(self, t: float, x: float) -> None:
        if self._last_t is None:
            self.mean, self._last_t, self._last_x, self.first_t = x, t, x, t
            return
        dt = t - self._last_t
        if dt <= 0.0:
            return
        a = min(dt / BREATH_WINDOW, 1.0)
        self.mean += a * (x - self.mean)
        self.amp += a * (abs(x - self.mean) * math.pi / 2.0 - self.amp)
        d = (x - self._last_x) / dt
        self.deriv += min(dt / 0.2, 1.0) * (d - self.deriv)
        self._last_t, self._last_x = t, x
        centred = x - self.mean
        hysteresis = 0.15 * self.amp
        if not self._above and centred > hysteresis:
            self._above = True
            if self._last_cross is not None:
                period = t - self._last_cross
                if 1.0 < period < 30.0:  # 2..60 breaths per minute
                    self.rate += 0.3 * (60.0 / period - self.rate)
                    self.breaths.append(t)
            self._last_cross = t
        elif self._above and centred < -hysteresis:
            self._above = False
        omega = 2.0 * math.pi * self.rate / 60.0
        self.phase = math.atan2(-self.deriv / omega, centred) % (2.0 * math.pi)
        self.value = max(-1.5, min(1.5, centred / max(self.amp, 1e-6)))


class _State:
    def __init__(self, pid: str, slot: int) -> None:
        self.id = pid
        self.slot = slot
        self.raw: dict[str, float] = {}
        self.smooth: dict[str, float] = {}
        self.last_t: dict[str, float] = {}
        self.last_beat = -math.inf
        self.beats = 0
        self.breath = BreathTracker()


class Signals:
    """Turns a stream of chunks and events into one `Frame` per call of `update`."""

    def __init__(self, max_participants: int = 64) -> None:
        self.max_participants = max_participants
        self._states: dict[str, _State] = {}
        self._free_slots = list(range(max_participants))
        self.rejected: dict[str, int] = {}

    def _state(self, pid: str) -> _State | None:
        st = self._states.get(pid)
        if st is None:
            if not self._free_slots:
                self.rejected["participant_cap"] = self.rejected.get("participant_cap", 0) + 1
                return None
            st = self._states[pid] = _State(pid, self._free_slots.pop(0))
        return st

    def _ingest(self, chunk: Chunk, now: float) -> None:
        st = self._state(chunk.participant)
        if st is None or len(chunk.v) == 0:
            return
        spec = CHANNELS.get(chunk.channel)
        v = np.asarray(chunk.v, dtype=np.float64)
        ok = np.isfinite(v)
        if not ok.all():
            self.rejected["non_finite"] = self.rejected.get("non_finite", 0) + int((~ok).sum())
            v, t = v[ok], np.asarray(chunk.t)[ok]
        else:
            t = np.asarray(chunk.t)
        if len(v) == 0:
            return
        if spec is not None:
            v = np.clip(v, spec.low, spec.high)
        if chunk.channel == "respiration":
            for ti, vi in zip(t.tolist(), v.tolist(), strict=True):
                st.breath.push(ti, vi)
        latest = float(v[-1])
        st.raw[chunk.channel] = latest
        tau = spec.smoothing if spec is not None else 1.0
        prev_t = st.last_t.get(chunk.channel)
        if prev_t is None or tau <= 0.0:
            st.smooth[chunk.channel] = float(np.mean(v)) if tau > 0.0 else latest
        else:
            a = 1.0 - math.exp(-max(float(t[-1]) - prev_t, 0.0) / tau)
            st.smooth[chunk.channel] += a * (float(np.mean(v)) - st.smooth[chunk.channel])
        st.last_t[chunk.channel] = float(t[-1])

    def update(self, chunks: list[Chunk], events: list[Event], t: float, index: int, dt: float) -> Frame:
        for chunk in chunks:
            self._ingest(chunk, t)
        out_events = list(events)
        for ev in events:
            if ev.participant is None:
                continue
            st = self._state(ev.participant)
            if ev.kind == "beat" and st is not None:
                st.last_beat = max(st.last_beat, ev.t)
                st.beats += 1
        participants = []
        for st in self._states.values():
            for tb in st.breath.breaths:
                out_events.append(Event(tb, "breath", st.id, st.breath.rate))
            st.breath.breaths.clear()
            values = dict(st.smooth)
            values["breath_rate"] = st.breath.rate
            participants.append(
                Participant(
                    id=st.id,
                    slot=st.slot,
                    values=values,
                    raw=dict(st.raw),
                    beat=math.exp(-max(t - st.last_beat, 0.0) / BEAT_DECAY),
                    beats=st.beats,
                    breath=st.breath.value,
                    breath_phase=st.breath.phase,
                    breath_rate=st.breath.rate,
                )
            )
        breathing = [p.breath_phase for p in participants if self._states[p.id].breath.ready(t)]
        return Frame(index, t, dt, participants, out_events, self._group(participants, breathing))

    @staticmethod
    def _group(participants: list[Participant], phases: list[float]) -> Group:
        g = Group(count=len(participants))
        if not participants:
            return g
        if len(phases) >= 2:
            z = np.exp(1j * np.array(phases)).mean()
            g.synchrony = float(abs(z))
            g.mean_phase = float(np.angle(z) % (2 * np.pi))
        names = {name for p in participants for name in p.values}
        for name in sorted(names):
            vals = np.array([p.values[name] for p in participants if name in p.values])
            g.mean[name] = float(vals.mean())
            g.spread[name] = float(vals.std())
        return g
