"""Signals: fold chunks and events into the per-frame state scenes read.

Everything here is causal (only past samples are used) so it behaves the same live and on
replay. Per participant it keeps a bounded ring buffer per channel, each channel's latest and
exponentially smoothed value, beats (from source events or detected in raw ECG/PPG), a
breathing phase and rate, EDA tonic/phasic levels, and presence: a participant who sends
nothing for `stale_after` seconds is stale (event "stale", "active" when data resumes) and
after `left_after` seconds has left (event "left"; the slot is freed). Per group: presence,
channel means and spreads, and the Kuramoto order parameter of the breathing phases.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from engine.data import CHANNELS, Chunk, Event, Frame, Group, Participant, valid_participant_id
from engine.signals.breath import Respiration
from engine.signals.cardiac import DETECTORS
from engine.signals.eda import EdaTracker
from engine.signals.kernels import clean_run
from engine.signals.quality import QUALITY_CHANNELS, SHAPE_POINTS, SHIFT, QualityTracker
from engine.signals.ring import Ring

BEAT_DECAY = 0.12  # seconds: how fast the heartbeat glow fades
SHAPE = {"ecg": (0.2, 0.2), "ppg": (0.3, 0.5)}  # seconds before/after a beat its template covers
SYNC_MIN_QUALITY = 0.2  # breathing quality below this leaves a participant out of the synchrony
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
BEYOND_CAP_KEPT = 1024  # distinct ignored ids remembered (the rest are only counted)
log = logging.getLogger("symphony")


class _State:
    def __init__(self, pid: str, slot: int, now: float) -> None:
        self.id = pid
        self.slot = slot
        self.alcove = ""
        self.raw: dict[str, float] = {}
        self.smooth: dict[str, float] = {}
        self.last_t: dict[str, float] = {}
        self.rings: dict[str, Ring] = {}
        self.last_beat = -math.inf
        self.beats = 0
        self.resp = Respiration()
        self.detectors: dict[str, object] = {}
        self.eda = EdaTracker()
        self.quality: dict[str, QualityTracker] = {}
        self.last_seen = now
        self.stale = False

    @property
    def breath(self):  # the tracker, under its old name
        return self.resp.tracker

    def heart_rate(self) -> float:
        for name in ("ecg", "ppg"):
            det = self.detectors.get(name)
            if det is not None:
                hr = det.heart_rate()  # type: ignore[attr-defined]
                if math.isfinite(hr):
                    return hr
        return self.smooth.get("heart_rate", math.nan)


class Signals:
    """Turns a stream of chunks and events into one `Frame` per call of `update`."""

    def __init__(self, max_participants: int = 64, stale_after: float = 3.0, left_after: float = 30.0,
                 ring_size: int = 4096) -> None:
        self.max_participants = max_participants
        self.stale_after = stale_after
        self.left_after = left_after
        self.ring_size = ring_size
        self._states: dict[str, _State] = {}
        self._free_slots = list(range(max_participants))
        self.rejected: dict[str, int] = {}
        # participants beyond the scene's cap: the scene's choice, not bad input, so not a
        # rejection (which would drive the glitch effect); the operator is told once
        self.beyond_cap: set[str] = set()
        self.beyond_cap_ignored = 0  # chunks and events of theirs
        self._pending: list[Event] = []

    # -- participants ------------------------------------------------------------------
    def _count(self, reason: str, n: int = 1) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + n

    def _state(self, pid: object, now: float, announce: bool = True) -> _State | None:
        st = self._states.get(pid)  # type: ignore[arg-type]
        if st is None:
            if not valid_participant_id(pid):
                self._count("bad_participant")
                return None
            if not self._free_slots:
                self._ignore(pid)  # type: ignore[arg-type]
                return None
            st = self._states[pid] = _State(pid, self._free_slots.pop(0), now)  # type: ignore[arg-type]
            if announce:
                self._pending.append(Event(now, "join", st.id))
        return st

    def _ignore(self, pid: str) -> None:
        self.beyond_cap_ignored += 1
        if pid in self.beyond_cap or len(self.beyond_cap) >= BEYOND_CAP_KEPT:
            return
        if not self.beyond_cap:
            log.warning("the scene draws up to %d participants: ignoring %s and any others beyond that",
                        self.max_participants, pid)
        self.beyond_cap.add(pid)

    def history(self, pid: str, channel: str, seconds: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Recent samples of one channel (times, values), oldest first; empty if none."""
        st = self._states.get(pid)
        ring = st.rings.get(channel) if st is not None else None
        if ring is None:
            return np.zeros(0), np.zeros(0, np.float32)
        return ring.arrays(seconds)

    # -- input -------------------------------------------------------------------------
    def _ingest(self, chunk: Chunk, now: float) -> None:
        st = self._states.get(chunk.participant)
        if st is None:
            st = self._state(chunk.participant, now)
            if st is None:
                return
        t, v = chunk.t, chunk.v
        if not (type(t) is np.ndarray and type(v) is np.ndarray and t.dtype == np.float64
                and v.dtype in _FLOATS and v.ndim == 1 and t.shape == v.shape):
            try:
                v = np.asarray(v, dtype=np.float64).reshape(-1)
                t = np.asarray(t, dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                self._count("wrong_type")
                return
            if t.size != v.size:
                self._count("malformed", v.size)
                return
        n = v.size
        if n == 0:
            return
        channel = chunk.channel
        spec = CHANNELS.get(channel)
        ct, cv = np.empty(n), np.empty(n)
        lo, hi = (spec.low, spec.high) if spec is not None else (-math.inf, math.inf)
        kept, total = clean_run(t, v, lo, hi, ct, cv)
        if kept < n:
            self._count("non_finite", n - kept)
            if kept == 0:
                return
            ct, cv = ct[:kept], cv[:kept]
        st.last_seen = now
        if chunk.alcove:
            st.alcove = chunk.alcove
        ring = st.rings.get(channel)
        if ring is None:
            ring = st.rings[channel] = Ring(self.ring_size)
        late = ct[0] <= ring.last_t
        ring.extend(ct, cv)
        if late:  # kept in the ring, but the causal features have moved past it
            self._count("late_for_features", kept)
        else:
            self._features(st, channel, ct, cv, now)
        latest = float(cv[-1])
        st.raw[channel] = latest
        mean = total / kept
        tau = spec.smoothing if spec is not None else 1.0
        prev_t = st.last_t.get(channel)
        t_end = float(ct[-1])
        if prev_t is None or tau <= 0.0:
            st.smooth[channel] = mean if tau > 0.0 else latest
            st.last_t[channel] = t_end
        elif t_end > prev_t:
            st.smooth[channel] += (1.0 - math.exp((prev_t - t_end) / tau)) * (mean - st.smooth[channel])
            st.last_t[channel] = t_end

    def _features(self, st: _State, channel: str, t: np.ndarray, v: np.ndarray, now: float) -> None:
        qt, flags = None, None
        if channel in QUALITY_CHANNELS:  # first, so the detectors below know this chunk's artifacts
            qt = st.quality.get(channel)
            if qt is None:
                qt = st.quality[channel] = QualityTracker(channel)
            if channel == "respiration":  # the breath-averaged level averages over the breaths seen
                qt.breath_rate(st.resp.tracker.rate)
            flags = qt.process(t, v)
        if channel == "respiration":
            st.resp.process(t, v, flags)
        elif channel in DETECTORS:
            det = st.detectors.get(channel)
            if det is None:
                det = st.detectors[channel] = DETECTORS[channel]()
            beats = det.process(t, v, flags, qt)  # type: ignore[attr-defined]
            if qt is not None:
                self._shapes(st, channel, qt, beats)
            if channel == "ppg" and "ecg" in st.detectors:
                return  # ECG, when present, is the beat source
            for tb in beats:
                self._beat(st, tb, st.heart_rate(), now)
        elif channel == "eda":
            for ts, amp in st.eda.process(t, v):
                self._pending.append(Event(ts, "scr", st.id, amp))

    @staticmethod
    def _shapes(st: _State, channel: str, qt: QualityTracker, beats: list[float]) -> None:
        """Template matching: each beat's waveform, resampled to a fixed length, against the template."""
        ring = st.rings.get(channel)
        if not beats or ring is None:
            return
        before, after = SHAPE[channel]
        pad = (before + after) * SHIFT / (SHAPE_POINTS - 2 * SHIFT)  # room for the shifts
        a, b = before + pad, after + pad
        t, v = ring.arrays(a + b + (ring.last_t - beats[0]))
        for tb in beats:
            if t.size < 8 or t[0] > tb - a or t[-1] < tb + b:
                continue  # the ring no longer (or not yet) holds the whole beat
            qt.beat_shape(np.interp(np.linspace(tb - a, tb + b, SHAPE_POINTS), t, v))

    def _beat(self, st: _State, tb: float, hr: float, now: float) -> None:
        # the event carries the beat's true time; the glow starts when it is known (detection
        # trails the heart by the detector's latency, and a glow 0.4-2 s late would be invisible)
        st.last_beat = max(st.last_beat, now)
        st.beats += 1
        self._pending.append(Event(tb, "beat", st.id, hr if math.isfinite(hr) else 0.0))

    # -- per frame ---------------------------------------------------------------------
    def update(self, chunks: list[Chunk], events: list[Event], t: float, index: int, dt: float) -> Frame:
        out_events: list[Event] = []
        for ev in events:
            if ev.participant is None:
                out_events.append(ev)
                continue
            st = self._state(ev.participant, t, announce=False)
            if st is None:
                continue
            out_events.append(ev)
            if ev.kind == "beat" and not st.detectors:  # raw ECG/PPG, when present, wins
                st.last_beat = max(st.last_beat, ev.t)
                st.beats += 1
        for chunk in chunks:
            self._ingest(chunk, t)
        self._presence(t)
        out_events += self._pending
        self._pending = []
        participants = []
        for st in self._states.values():
            for tb in st.breath.breaths:
                out_events.append(Event(tb, "breath", st.id, st.breath.rate))
            st.breath.breaths.clear()
            participants.append(self._participant(st, t))
        ready = {p.id for p in participants if not p.stale and self._states[p.id].breath.ready(t)}
        frame = Frame(index, t, dt, participants, out_events, self._group(participants, ready))
        for name in sorted({p.alcove for p in participants if p.alcove}):
            frame.alcoves[name] = self._group([p for p in participants if p.alcove == name], ready)
        return frame

    def _presence(self, now: float) -> None:
        for st in list(self._states.values()):
            quiet = now - st.last_seen
            if quiet >= self.left_after:
                self._pending.append(Event(now, "left", st.id, quiet))
                del self._states[st.id]
                self._free_slots.append(st.slot)
                self._free_slots.sort()
            elif quiet >= self.stale_after and not st.stale:
                st.stale = True
                self._pending.append(Event(now, "stale", st.id, quiet))
            elif quiet < self.stale_after and st.stale:
                st.stale = False
                self._pending.append(Event(now, "active", st.id))

    @staticmethod
    def _participant(st: _State, t: float) -> Participant:
        values = dict(st.smooth)
        breath = st.breath
        if breath.seen or "breath_rate" not in values:
            values["breath_rate"] = breath.rate
        hr = st.heart_rate()
        if math.isfinite(hr):
            values["heart_rate"] = hr
        if math.isfinite(st.eda.tonic):
            values["eda_tonic"] = st.eda.tonic
            values["eda_phasic"] = st.eda.phasic
        return Participant(
            id=st.id, slot=st.slot, values=values, raw=dict(st.raw),
            pulse=math.exp(-max(t - st.last_beat, 0.0) / BEAT_DECAY), beat_count=st.beats,
            breath=breath.value, breath_phase=breath.phase, breath_rate=values["breath_rate"],
            heart_rate=hr, eda_tonic=st.eda.tonic, eda_phasic=st.eda.phasic, stale=st.stale,
            alcove=st.alcove, last_seen=st.last_seen,
            quality={name: qt.quality for name, qt in st.quality.items()},
        )

    @staticmethod
    def _group(participants: list[Participant], ready: set[str]) -> Group:
        g = Group(count=len(participants))
        present = [p for p in participants if not p.stale]
        g.present = len(present)
        if not present:
            return g
        # weighted by breathing quality: an untrustworthy phase neither makes nor breaks the braid
        pairs = [(p.breath_phase, p.quality.get("respiration", 1.0)) for p in present if p.id in ready]
        pairs = [(ph, w) for ph, w in pairs if w >= SYNC_MIN_QUALITY]
        if len(pairs) >= 2:
            phases, w = np.array(pairs).T
            z = (w * np.exp(1j * phases)).sum() / w.sum()
            g.synchrony = float(abs(z))
            g.mean_phase = float(np.angle(z) % (2 * np.pi))
        names = {name for p in present for name in p.values}
        for name in sorted(names):
            vals = np.array([p.values[name] for p in present if name in p.values])
            g.mean[name] = float(vals.mean())
            g.spread[name] = float(vals.std())
        return g
