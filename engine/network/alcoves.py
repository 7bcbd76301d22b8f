"""Every Alcove's features → a frame's participants, `frame.alcoves` and `frame.group`.

Given a snapshot {alcove: (age in seconds, latest message)} the result depends on nothing
else, so a render node re-running a frame from the same snapshots gets the same frame. Between
messages (10 Hz) breathing phases advance at each participant's breath rate and heartbeats are
re-made from heart rate; an Alcove whose message is `stale_after` seconds old is stale.

Frames come at 60 Hz and messages at 10 Hz, so what a message holds (values, rates, channel
means) is unpacked once per message into arrays, and each frame only advances phases and
beats, vectorised per Alcove: 6,400 participants cost a few milliseconds a frame.
"""

from __future__ import annotations

import math

import numpy as np

from engine.data import Frame, Group, Participant

BEAT_DECAY = 0.12
TWO_PI = 2.0 * math.pi
SYNC_MIN_QUALITY = 0.2  # as engine.signals.core: untrustworthy breathing is left out of synchrony
VALUE_KEYS = ("heart_rate", "breath_rate", "eda_tonic", "saliva_ph", "oral_temp", "bacterial_load", "biofilm")


class _Alcove:
    """One Alcove's latest message, unpacked; heart phases carried over from the last one."""

    def __init__(self, name: str, doc: dict, old: _Alcove | None, slot_of) -> None:
        self.name, self.seq, self.doc = name, doc["seq"], doc
        self.pids, self.statics = [], []
        rows, base, flag, weight = [], [], [], []
        carried = dict(zip(old.pids, zip(old.heart.tolist(), old.last_beat.tolist(), old.beats.tolist(),
                                         strict=True), strict=True)) if old is not None else {}
        heart, last_beat, beats = [], [], []
        nan = math.nan
        for key, f in doc["participants"].items():
            pid = f"{name}-{key}"
            slot = slot_of(pid)
            if slot is None:
                continue
            row = [f.get(k) for k in VALUE_KEYS]
            values = {k: float(x) for k, x in zip(VALUE_KEYS, row, strict=True) if x is not None}
            row = [nan if x is None else float(x) for x in row]
            phase = f.get("breath_phase")
            quality = dict(f.get("quality") or {})  # checked by check_message
            w = quality.get("respiration", 1.0)  # a venue that sends no quality is trusted
            weight.append(w if w >= SYNC_MIN_QUALITY else 0.0)
            self.pids.append(pid)
            self.statics.append({"id": pid, "slot": slot, "values": values, "raw": {},
                                 "breath_rate": row[1], "heart_rate": row[0], "eda_tonic": row[2],
                                 "eda_phasic": 0.0, "alcove": name, "quality": quality})
            rows.append(row)
            base.append(nan if phase is None else float(phase))
            flag.append(bool(f["stale"]))
            c = carried.get(pid, (0.0, -math.inf, 0))
            heart.append(c[0])
            last_beat.append(c[1])
            beats.append(c[2])
        table = np.array(rows, np.float64).reshape(len(rows), len(VALUE_KEYS))
        self.hr, self.br = table[:, 0].copy(), table[:, 1].copy()
        self.base = np.array(base, np.float64)
        self.flag = np.array(flag, bool)
        self.weight = np.array(weight, np.float64)
        self.heart, self.last_beat = np.array(heart, np.float64), np.array(last_beat, np.float64)
        self.beats = np.array(beats, np.int64)
        present = table[~self.flag]
        self.values = {}
        self.group = Group(count=doc["count"], present=doc["present"])
        for c, k in enumerate(VALUE_KEYS):
            v = present[:, c]
            v = v[~np.isnan(v)]
            self.values[k] = v
            if v.size:
                self.group.mean[k], self.group.spread[k] = float(v.mean()), float(v.std())

    def advance(self, t: float, dt: float, age: float, stale_after: float) -> tuple[list, np.ndarray,
                                                                                      np.ndarray]:
        """This frame's participants, their phases and presence."""
        beating = np.isfinite(self.hr)
        self.heart[beating] += dt * self.hr[beating] / 60.0
        wrapped = self.heart >= 1.0
        if wrapped.any():
            self.heart[wrapped] %= 1.0
            self.last_beat[wrapped] = t
            self.beats[wrapped] += 1
        beat = np.exp(-np.maximum(t - self.last_beat, 0.0) / BEAT_DECAY)
        moving = np.isfinite(self.base) & np.isfinite(self.br)
        phase = np.where(np.isfinite(self.base), self.base, 0.0)
        phase[moving] = (phase[moving] + TWO_PI * self.br[moving] / 60.0 * min(age, stale_after)) % TWO_PI
        breath = np.where(np.isfinite(self.base), np.cos(phase), 0.0)
        stale = self.flag | (age >= stale_after)
        people = []
        for s, ph, b, bt, bc, st in zip(self.statics, phase.tolist(), breath.tolist(), beat.tolist(),
                                         self.beats.tolist(), stale.tolist(), strict=True):
            p = Participant.__new__(Participant)
            p.__dict__.update(s)
            p.breath_phase, p.breath, p.pulse, p.beat_count, p.stale, p.last_seen = ph, b, bt, bc, st, t - age
            people.append(p)
        return people, phase, ~stale


class AlcoveState:
    def __init__(self, max_participants: int = 16384, stale_after: float = 3.0, rejects=None) -> None:
        self.stale_after, self.rejects = stale_after, rejects
        self._slots: dict[str, int] = {}
        self._free = list(range(max_participants))
        self._alcoves: dict[str, _Alcove] = {}
        self._last_t: float | None = None

    def _slot(self, pid: str) -> int | None:
        slot = self._slots.get(pid)
        if slot is None:
            if not self._free:
                if self.rejects is not None:
                    self.rejects.add("participant_cap")
                return None
            slot = self._slots[pid] = self._free.pop(0)
        return slot

    def apply(self, frame: Frame, snapshot: dict[str, tuple[float, dict]]) -> None:
        dt = frame.dt if self._last_t is not None else 0.0
        self._last_t = frame.t
        for name in [a for a in self._alcoves if a not in snapshot]:
            del self._alcoves[name]
        people: list[Participant] = []
        phases, present, weights, sums = [], [], [], {k: [] for k in VALUE_KEYS}
        for name in sorted(snapshot):
            age, doc = snapshot[name]
            entry = self._alcoves.get(name)
            if entry is None or entry.seq != doc["seq"]:
                entry = self._alcoves[name] = _Alcove(name, doc, entry, self._slot)
            members, phase, here = entry.advance(frame.t, dt, age, self.stale_after)
            people += members
            phases.append(phase)
            present.append(here)
            weights.append(np.where(here, entry.weight, 0.0))
            frame.alcoves[name] = self._group(entry, phase, here, age)
            if here.any():
                for k, v in entry.values.items():
                    sums[k].append(v)
        alive = {p.id for p in people}
        for pid in [pid for pid in self._slots if pid not in alive]:
            self._free.append(self._slots.pop(pid))
        self._free.sort()
        frame.participants = people
        frame.group = _overall(len(people), np.concatenate(phases) if phases else np.zeros(0),
                               np.concatenate(present) if present else np.zeros(0, bool),
                               np.concatenate(weights) if weights else np.zeros(0), sums)

    def _group(self, entry: _Alcove, phase: np.ndarray, here: np.ndarray, age: float) -> Group:
        doc, static = entry.doc, entry.group
        g = Group(count=static.count, present=static.present if here.any() or not here.size else 0)
        if here.any():
            g.mean.update(static.mean)
            g.spread.update(static.spread)
        if doc["synchrony"] is not None:
            g.synchrony = doc["synchrony"]
        elif here.sum() >= 2:
            g.synchrony, _ = _kuramoto(phase[here], entry.weight[here])
        if doc["mean_phase"] is not None:
            rate = g.mean.get("breath_rate", 0.0)
            g.mean_phase = (doc["mean_phase"] + TWO_PI * rate / 60.0 * min(age, self.stale_after)) % TWO_PI
        elif here.sum() >= 2:
            _, g.mean_phase = _kuramoto(phase[here], entry.weight[here])
        return g


def _kuramoto(phases: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Order parameter of the phases weighted by breathing quality (0: left out)."""
    if np.count_nonzero(weights) < 2:
        return 0.0, 0.0
    z = (weights * np.exp(1j * phases)).sum() / weights.sum()
    return float(abs(z)), float(np.angle(z) % TWO_PI)


def _overall(count: int, phases: np.ndarray, present: np.ndarray, weights: np.ndarray,
             values: dict[str, list]) -> Group:
    """Presence, channel means and spreads, and breathing synchrony of the whole network."""
    g = Group(count=count, present=int(present.sum()))
    if g.present >= 2:
        g.synchrony, g.mean_phase = _kuramoto(phases[present], weights[present])
    for k, parts in values.items():
        if parts:
            v = np.concatenate(parts)
            if v.size:
                g.mean[k], g.spread[k] = float(v.mean()), float(v.std())
    return g
