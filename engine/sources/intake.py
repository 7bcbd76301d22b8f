"""Validation shared by every source: what counts as bad input, and what happens to it.

Every sample a source receives passes `Intake.add`, which either returns a clean `Chunk`
or counts the problem under a reason in `Rejects` (logged at most every few seconds, and
never echoing ids that failed validation, which could be real names). The rules:

| reason            | what                                                   | action   |
|-------------------|--------------------------------------------------------|----------|
| malformed         | packet or payload that does not parse (or wrong shape) | rejected |
| bad_address       | OSC address / MQTT topic not in the documented form    | rejected |
| bad_participant   | id not matching `[A-Za-z0-9_-]{1,32}`                   | rejected |
| unknown_channel   | channel not in `engine.data.CHANNELS`                  | rejected |
| wrong_type        | values that are not numbers                            | rejected |
| oversize          | payload or message larger than the source's limit      | rejected |
| participant_cap   | a new id beyond the cap (a flood of ids)               | rejected |
| bad_timestamp     | time not finite                                        | rejected |
| non_finite        | NaN or ±inf sample values                              | rejected |
| out_of_range      | value beyond the channel's range by more than 10 %     | rejected |
| clamped           | value just outside the range (within the 10 % margin)  | clamped  |
| duplicate         | a sample whose timestamp this stream already delivered | rejected |
| time_backwards    | older than `reorder_window` behind the stream's newest | rejected |

Samples that arrive late but within `reorder_window` are kept (valid data is never lost)
and delivered in a chunk of their own; `late` counts them (it is not a rejection).
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable

import numpy as np
from numba import njit

from engine.data import CHANNELS, Chunk, valid_participant_id

log = logging.getLogger("symphony.sources")

NOT_REJECTIONS = frozenset({"clamped", "late"})
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


class _Stream:
    """A stream's newest time and the timestamps of its last `reorder_window` seconds."""

    __slots__ = ("last_t", "_recent")

    def __init__(self) -> None:
        self.last_t = -math.inf
        self._recent: deque[np.ndarray] = deque()  # sorted, non-overlapping arrays

    def push(self, ts: np.ndarray, window: float) -> None:
        """In-order samples (all newer than last_t)."""
        self._recent.append(ts)
        self.last_t = float(ts[-1])
        cut = self.last_t - window
        while len(self._recent) > 1 and self._recent[0][-1] < cut:
            self._recent.popleft()
        if len(self._recent) > 4096:  # many tiny messages: fold them into one array
            self._recent = deque([np.concatenate(self._recent)])

    def recent(self) -> np.ndarray:
        return np.concatenate(self._recent) if self._recent else np.zeros(0)

    def merge(self, late: np.ndarray) -> None:
        self._recent = deque([np.union1d(self.recent(), late)])


@njit(cache=True, nogil=True)
def _clean(ts, v, lo, hi, last_t):  # pragma: no cover - compiled
    """True when all times are finite, increasing and after last_t, and all values finite in range."""
    prev = last_t
    for i in range(v.size):
        x, t = v[i], ts[i]
        if not (t > prev and x >= lo and x <= hi and math.isfinite(t)):
            return False
        prev = t
    return True


class Intake:
    """Turns raw (participant, channel, times, values) into clean chunks, per the table above."""

    def __init__(self, rejects: Rejects, max_participants: int = 256, reorder_window: float = 2.0,
                 max_samples: int = 65536, max_recent: int = 8192, idle_forget: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rejects = rejects
        self.max_participants = max_participants
        self.idle_forget = idle_forget  # a full cap makes room by forgetting ids idle this long
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._next_sweep = -math.inf
        self.reorder_window = reorder_window
        self.max_samples = max_samples
        self.max_recent = max_recent
        self.participants: set[str] = set()
        self._streams: dict[tuple[str, str], _Stream] = {}

    @staticmethod
    def warm_up() -> None:
        """Load the compiled check now, not when the first packet is waiting."""
        _clean(np.zeros(2), np.zeros(2), 0.0, 1.0, -math.inf)

    def admit(self, participant: object, channel: object) -> bool:
        """Check the id and channel of a stream (counting a failure); True when usable."""
        if not isinstance(participant, str) or not isinstance(channel, str):
            self.rejects.add("malformed")
            return False
        if participant not in self.participants:
            if not valid_participant_id(participant):
                self.rejects.add("bad_participant")
                return False
            if len(self.participants) >= self.max_participants and not self._sweep():
                self.rejects.add("participant_cap")
                return False
            self.participants.add(participant)
        self._seen[participant] = self._clock()
        if channel not in CHANNELS:
            self.rejects.add("unknown_channel")
            return False
        return True

    def _sweep(self) -> bool:
        """Forget ids idle for `idle_forget` seconds (at most once a second); True if room was made."""
        now = self._clock()
        if now < self._next_sweep:
            return False
        self._next_sweep = now + 1.0
        for pid in [p for p, seen in self._seen.items() if now - seen >= self.idle_forget]:
            self.forget(pid)
        return len(self.participants) < self.max_participants

    def forget(self, participant: str) -> None:
        """Release a participant who left, so the cap counts only those present."""
        self.participants.discard(participant)
        self._seen.pop(participant, None)
        for key in [k for k in self._streams if k[0] == participant]:
            del self._streams[key]

    def add(self, participant: object, channel: object, t: object, values: object,
            alcove: str = "", arrival: float = math.nan, source_offset: float = 0.0) -> list[Chunk]:
        """Validate one message's samples; returns zero, one or two chunks (in-order, late)."""
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
        spec = CHANNELS[channel]  # type: ignore[index]
        key = (participant, channel)
        st = self._streams.get(key)  # type: ignore[arg-type]
        if st is None:
            st = self._streams[key] = _Stream()  # type: ignore[index]
        if _clean(ts, v, spec.low, spec.high, st.last_t):  # the common case: nothing to fix
            st.push(ts, self.reorder_window)
            return [self._chunk(str(participant), str(channel), ts, v, alcove, arrival, source_offset)]
        keep = np.isfinite(ts)
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
        return self._order(st, str(participant), str(channel), ts, v, alcove, arrival, source_offset)

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

    def _order(self, st: _Stream, pid: str, channel: str, ts: np.ndarray, v: np.ndarray, alcove: str,
               arrival: float, offset: float) -> list[Chunk]:
        if ts.size > 1 and np.any(ts[1:] <= ts[:-1]):
            ts, idx = np.unique(ts, return_index=True)  # sorted, duplicates within the message out
            self.rejects.add("duplicate", v.size - idx.size)
            v = v[idx]
        out: list[Chunk] = []
        late = ts <= st.last_t
        if late.any():
            lt, lv = ts[late], v[late]
            too_old = lt < st.last_t - self.reorder_window
            self.rejects.add("time_backwards", int(too_old.sum()))
            recent = st.recent()
            pos = np.searchsorted(recent, lt)
            seen = (pos < recent.size) & (recent[np.minimum(pos, recent.size - 1)] == lt)
            seen &= ~too_old
            self.rejects.add("duplicate", int(seen.sum()))
            ok = ~(too_old | seen)
            if ok.any():
                self.rejects.add("late", int(ok.sum()))
                out.append(self._chunk(pid, channel, lt[ok], lv[ok], alcove, arrival, offset))
                st.merge(lt[ok])
            ts, v = ts[~late], v[~late]
        if ts.size:
            out.append(self._chunk(pid, channel, ts, v, alcove, arrival, offset))
            st.push(ts, self.reorder_window)
        return out

    @staticmethod
    def _chunk(pid: str, channel: str, ts: np.ndarray, v: np.ndarray, alcove: str,
               arrival: float, offset: float) -> Chunk:
        return Chunk(pid, channel, ts - offset, v.astype(np.float32), arrival=arrival,
                     source_offset=offset, alcove=alcove)
