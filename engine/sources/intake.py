"""Validation shared by every source: what counts as bad input, and what happens to it.

Every sample a source receives passes `Intake.add`, which either returns a clean `Chunk`
or counts the problem under a reason in `Rejects` (logged at most every few seconds, and
never echoing ids that failed validation, which could be real names). The rules:

| reason            | what                                                   | action   |
|-------------------|--------------------------------------------------------|----------|
| malformed         | packet or payload that does not parse (or wrong shape) | rejected |
| bad_address       | OSC address / MQTT topic not in the documented form    | rejected |
|                   | (or an alcove segment not matching the id rule)        |          |
| bad_participant   | id not matching `[A-Za-z0-9_-]{1,32}`                   | rejected |
| unknown_channel   | channel not in `engine.data.CHANNELS`                  | rejected |
| wrong_type        | values that are not numbers                            | rejected |
| oversize          | payload or message larger than the source's limit      | rejected |
| participant_cap   | a new id while the cap is full of steady, active ids   | rejected |
| bad_timestamp     | time not finite, or outside the plausible window       | rejected |
| non_finite        | NaN or ±inf sample values                              | rejected |
| out_of_range      | value beyond the channel's range by more than 10 %     | rejected |
| clamped           | value just outside the range (within the 10 % margin)  | clamped  |
| duplicate         | same timestamp *and* value as one this stream delivered | rejected |
| coarse_time       | same timestamp as a delivered sample, another value    | kept     |
| time_backwards    | older than `reorder_window` behind the stream's newest | rejected |
| overload          | excess beyond a receiver's per-sender/topic budget     | rejected |
| resync            | a stream stuck behind its newest mark was restarted    | kept     |
| decoder_error     | a message a receiver failed to decode (a bug: counted) | rejected |

Samples that arrive late but within `reorder_window` are kept (valid data is never lost)
and delivered in a chunk of their own; `late` counts them (it is not a rejection).

Live receivers pass `time_window` (e.g. ±1 day around their wall clock): a forged time tag
of 2^64-1 or `t: 1e300` is then `bad_timestamp` and never moves a stream's newest mark. A
stream whose samples keep falling behind its mark for `resync_after` seconds (e.g. after
one forged but plausible time) restarts from its next sample, so one sample can never lock
a stream out. Ids are admitted fairly under a flood (`engine.sources.admission`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import numpy as np
from numba import njit

from engine.data import CHANNELS, Chunk, valid_participant_id
from engine.sources.admission import Admission
from engine.sources.stream_state import StreamState

log = logging.getLogger("symphony.sources")

NOT_REJECTIONS = frozenset({"clamped", "late", "coarse_time", "resync"})
NOT_GLITCHES = frozenset({"bad_address"})  # e.g. control messages sent to the data port
RANGE_MARGIN = 0.10


class Rejects:
    """Counts of bad input per reason for one source, logged without flooding the log."""

    def __init__(self, source: str, every: float = 10.0, clock: Callable[[], float] = time.monotonic,
                 quiet: bool = False):
        self.source = source
        self.quiet = quiet  # count only (a receiver process whose parent does the logging)
        self.counts: dict[str, int] = {}
        self.every = every
        self._clock = clock
        self._pending: dict[str, int] = {}
        self._last_log = -math.inf
        self.logged = 0  # log lines written: tests check that floods stay quiet

    def add(self, reason: str, n: int = 1) -> None:
        if n <= 0:
            return
        first = reason not in self.counts
        self.counts[reason] = self.counts.get(reason, 0) + n
        self._pending[reason] = self._pending.get(reason, 0) + n
        if first and reason not in NOT_REJECTIONS:
            self._emit(f"source {self.source}: rejected input ({reason}); further reports every "
                       f"{self.every:g} s")
            self._pending.pop(reason)
        else:
            self.maybe_log()

    def merge(self, counts: dict[str, int]) -> None:
        for reason, n in counts.items():
            self.add(reason, int(n))

    def maybe_log(self) -> None:
        now = self._clock()
        if self._pending and now - self._last_log >= self.every:
            summary = ", ".join(f"{k}={v}" for k, v in sorted(self._pending.items()))
            self._emit(f"source {self.source}: since last report: {summary}")
            self._pending.clear()

    def _emit(self, message: str) -> None:
        self._last_log = self._clock()
        if self.quiet:
            return
        self.logged += 1
        log.warning("%s", message)

    @property
    def rejected(self) -> int:
        return sum(n for k, n in self.counts.items() if k not in NOT_REJECTIONS)

    @property
    def glitches(self) -> int:
        """Rejections that are bad data (they drive frame.glitch): not stray addresses."""
        return sum(n for k, n in self.counts.items() if k not in NOT_REJECTIONS | NOT_GLITCHES)


@njit(cache=True, nogil=True)
def _clean(ts, v, lo, hi, last_t, t_lo, t_hi):  # pragma: no cover - compiled
    """True when all times are increasing, after last_t and inside [t_lo, t_hi] (so finite),
    and all values finite in range."""
    prev = last_t
    for i in range(v.size):
        x, t = v[i], ts[i]
        if not (t > prev and x >= lo and x <= hi and t >= t_lo and t <= t_hi):
            return False
        prev = t
    return True


class Intake:
    """Turns raw (participant, channel, times, values) into clean chunks, per the table above."""

    def __init__(self, rejects: Rejects, max_participants: int = 256, reorder_window: float = 2.0,
                 max_samples: int = 65536, max_recent: int = 8192, idle_forget: float = 10.0,
                 clock: Callable[[], float] = time.monotonic, time_window: float | None = None,
                 wall: Callable[[], float] = time.time, resync_after: float | None = None) -> None:
        self.rejects = rejects
        self.max_participants = max_participants
        self.idle_forget = idle_forget  # a steady id gives up its place after this much silence
        self._clock = clock
        self._admission = Admission(max_participants, idle_forget, clock=clock)
        self.reorder_window = reorder_window
        self.max_samples = max_samples
        self.max_recent = max_recent
        self.time_window = time_window  # plausible times: wall() ± this (None: any finite time)
        self._wall = wall
        self.resync_after = reorder_window if resync_after is None else resync_after
        self._streams: dict[tuple[str, str], StreamState] = {}
        self._chans: dict[str, list[str]] = {}

    @property
    def participants(self) -> set[str]:
        return self._admission.ids()

    @staticmethod
    def warm_up() -> None:
        """Load the compiled check now, not when the first packet is waiting."""
        _clean(np.zeros(2), np.zeros(2), 0.0, 1.0, -math.inf, -math.inf, math.inf)

    def admit(self, participant: object, channel: object) -> bool:
        """Check the id and channel of a stream (counting a failure); True when usable."""
        if not isinstance(participant, str) or not isinstance(channel, str):
            self.rejects.add("malformed")
            return False
        if not self._admission.seen(participant):
            if not valid_participant_id(participant):
                self.rejects.add("bad_participant")
                return False
            ok, evicted = self._admission.enter(participant)
            if evicted is not None:
                self.forget(evicted)
            if not ok:
                self.rejects.add("participant_cap")
                return False
        if channel not in CHANNELS:
            self.rejects.add("unknown_channel")
            return False
        return True

    def forget(self, participant: str) -> None:
        """Release a participant who left, so the cap counts only those present."""
        self._admission.remove(participant)
        for channel in self._chans.pop(participant, ()):
            self._streams.pop((participant, channel), None)

    def add(self, participant: object, channel: object, t: object, values: object,
            alcove: str = "", arrival: float = math.nan, source_offset: float = 0.0,
            admitted: bool = False) -> list[Chunk]:
        """Validate one message's samples; returns zero, one or two chunks (in-order, late).
        `admitted`: the caller checked the alcove and called `admit` for this very message."""
        if not admitted:
            if alcove and not valid_participant_id(alcove):  # it reaches files and topics: same rule
                self.rejects.add("bad_address")
                return []
            if not self.admit(participant, channel):
                return []
        try:
            v = np.asarray(values, dtype=np.float64).reshape(-1)
            ts = np.asarray(t, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError, OverflowError):
            self.rejects.add("wrong_type")
            return []
        if v.size == 0:
            return []
        if v.size > self.max_samples:
            self.rejects.add("oversize", v.size)
            return []
        if ts.size != v.size:
            self.rejects.add("malformed", v.size)
            return []
        t_lo, t_hi = -math.inf, math.inf
        if self.time_window is not None:
            now = self._wall()
            t_lo, t_hi = now - self.time_window, now + self.time_window
        spec = CHANNELS[channel]  # type: ignore[index]
        key = (participant, channel)
        st = self._streams.get(key)  # type: ignore[arg-type]
        if st is None:
            st = self._streams[key] = StreamState()  # type: ignore[index]
            self._chans.setdefault(participant, []).append(channel)  # type: ignore[arg-type]
        if _clean(ts, v, spec.low, spec.high, st.last_t, t_lo, t_hi):  # the common case
            v32 = v.astype(np.float32)
            st.push(ts, v32, self.reorder_window)
            return [self._chunk(str(participant), str(channel), ts, v32, alcove, arrival, source_offset)]
        keep = np.isfinite(ts) & (ts >= t_lo) & (ts <= t_hi)
        if not keep.all():
            self.rejects.add("bad_timestamp", int((~keep).sum()))
        finite = np.isfinite(v)
        if not finite.all():
            self.rejects.add("non_finite", int((keep & ~finite).sum()))
            keep &= finite
        v = self._range(spec.low, spec.high, v, keep)
        if not keep.all():
            ts, v = ts[keep], v[keep]
            if v.size == 0:
                return []
        return self._order(key, st, ts, v.astype(np.float32), alcove, arrival, source_offset)  # type: ignore[arg-type]

    def _range(self, lo: float, hi: float, v: np.ndarray, keep: np.ndarray) -> np.ndarray:
        if keep.any() and (v[keep].min() < lo or v[keep].max() > hi):
            margin = RANGE_MARGIN * (hi - lo)
            far = keep & ((v < lo - margin) | (v > hi + margin))
            self.rejects.add("out_of_range", int(far.sum()))
            keep &= ~far
            near = keep & ((v < lo) | (v > hi))
            self.rejects.add("clamped", int(near.sum()))
            v = np.clip(v, lo, hi)
        return v

    def _within(self, ts: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sort one message by time; exact (time, value) repeats out, equal times kept."""
        pairs = np.lexsort((v, ts))  # stable: the first of equal pairs stays first
        a, b = pairs[:-1], pairs[1:]
        same = (ts[a] == ts[b]) & (v[a] == v[b])
        if same.any():
            keep = np.ones(ts.size, bool)
            keep[b[same]] = False
            self.rejects.add("duplicate", int(same.sum()))
            ts, v = ts[keep], v[keep]
        order = np.argsort(ts, kind="stable")
        ts, v = ts[order], v[order]
        self.rejects.add("coarse_time", int((ts[1:] == ts[:-1]).sum()))
        return ts, v

    def _stuck(self, st: StreamState) -> bool:
        """True once a stream's samples have kept falling too far behind for `resync_after` s."""
        now = self._clock()
        if math.isnan(st.stuck_since):
            st.stuck_since = now
        return now - st.stuck_since >= self.resync_after

    def _order(self, key: tuple[str, str], st: StreamState, ts: np.ndarray, v: np.ndarray, alcove: str,
               arrival: float, offset: float) -> list[Chunk]:
        pid, channel = key
        if ts.size > 1 and np.any(ts[1:] <= ts[:-1]):
            ts, v = self._within(ts, v)
        out: list[Chunk] = []
        late = ts <= st.last_t
        if late.any():
            lt, lv = ts[late], v[late]
            too_old = lt < st.last_t - self.reorder_window
            if too_old.any() and self._stuck(st):  # never locked out: start the stream afresh
                self.rejects.add("resync")
                fresh = self._streams[key] = StreamState()
                return self._order(key, fresh, ts, v, alcove, arrival, offset)
            self.rejects.add("time_backwards", int(too_old.sum()))
            rt, rv = st.recent()
            lo, hi = np.searchsorted(rt, lt, "left"), np.searchsorted(rt, lt, "right")
            same_t = (hi > lo) & ~too_old
            dup = same_t & (rv[np.minimum(lo, rv.size - 1)] == lv) if rv.size else same_t
            for i in np.flatnonzero(same_t & ~dup & (hi - lo > 1)):  # several at that time: any equal?
                dup[i] = bool(np.any(rv[lo[i]:hi[i]] == lv[i]))
            self.rejects.add("duplicate", int(dup.sum()))
            coarse = same_t & ~dup
            self.rejects.add("coarse_time", int(coarse.sum()))
            ok = ~(too_old | dup)
            if ok.any():
                self.rejects.add("late", int((ok & ~coarse).sum()))
                out.append(self._chunk(pid, channel, lt[ok], lv[ok], alcove, arrival, offset))
                st.merge(lt[ok], lv[ok])
            ts, v = ts[~late], v[~late]
        if ts.size:
            out.append(self._chunk(pid, channel, ts, v, alcove, arrival, offset))
            st.push(ts, v, self.reorder_window)
        return out

    @staticmethod
    def _chunk(pid: str, channel: str, ts: np.ndarray, v: np.ndarray, alcove: str,
               arrival: float, offset: float) -> Chunk:
        return Chunk(pid, channel, ts - offset, v.astype(np.float32, copy=False), arrival=arrival,
                     source_offset=offset, alcove=alcove)
