"""Every Alcove's features → a frame's participants, `frame.alcoves` and `frame.group`.

Given a snapshot {alcove: (age in seconds, latest message)} the result depends on nothing
else, so a render node re-running a frame from the same snapshots gets the same frame. Between
messages breathing phases advance at each participant's breath rate and heartbeats are re-made
from heart rate; an Alcove whose message is `stale_after` seconds old is stale.
"""

from __future__ import annotations

import math

import numpy as np

from engine.data import Frame, Group, Participant

BEAT_DECAY = 0.12
VALUE_KEYS = ("heart_rate", "breath_rate", "eda_tonic", "saliva_ph", "oral_temp", "bacterial_load", "biofilm")


class _Member:
    def __init__(self, slot: int) -> None:
        self.slot, self.heart = slot, 0.0
        self.last_beat, self.beats = -math.inf, 0


class AlcoveState:
    def __init__(self, max_participants: int = 4096, stale_after: float = 3.0, rejects=None) -> None:
        self.stale_after, self.rejects = stale_after, rejects
        self._members: dict[str, _Member] = {}
        self._free = list(range(max_participants))
        self._last_t: float | None = None

    def apply(self, frame: Frame, snapshot: dict[str, tuple[float, dict]]) -> None:
        dt = frame.dt if self._last_t is not None else 0.0
        self._last_t = frame.t
        seen: set[str] = set()
        people: list[Participant] = []
        for alcove in sorted(snapshot):
            age, doc = snapshot[alcove]
            stale_all = age >= self.stale_after
            members = []
            for key, f in doc["participants"].items():
                pid = f"{alcove}-{key}"
                p = self._participant(pid, alcove, f, age, stale_all, frame.t, dt)
                if p is not None:
                    seen.add(pid)
                    members.append(p)
            people += members
            frame.alcoves[alcove] = self._group(members, doc, age)
        for pid in [pid for pid in self._members if pid not in seen]:
            self._free.append(self._members.pop(pid).slot)
        self._free.sort()
        frame.participants = people
        frame.group = _overall(people)

    def _participant(self, pid: str, alcove: str, f: dict, age: float, stale_all: bool, t: float,
                     dt: float) -> Participant | None:
        m = self._members.get(pid)
        if m is None:
            if not self._free:
                if self.rejects is not None:
                    self.rejects.add("participant_cap")
                return None
            m = self._members[pid] = _Member(self._free.pop(0))
        values = {k: float(f[k]) for k in VALUE_KEYS if f.get(k) is not None}
        hr, br = values.get("heart_rate", math.nan), values.get("breath_rate", math.nan)
        if math.isfinite(hr):  # beats re-made locally from the heart rate
            m.heart += dt * hr / 60.0
            if m.heart >= 1.0:
                m.heart %= 1.0
                m.last_beat, m.beats = t, m.beats + 1
        phase = f.get("breath_phase")
        if phase is not None and math.isfinite(br):
            phase = (phase + 2.0 * math.pi * br / 60.0 * min(age, self.stale_after)) % (2.0 * math.pi)
        stale = stale_all or bool(f["stale"])
        return Participant(id=pid, slot=m.slot, values=values, raw={},
                           beat=math.exp(-max(t - m.last_beat, 0.0) / BEAT_DECAY), beats=m.beats,
                           breath=math.cos(phase) if phase is not None else 0.0,
                           breath_phase=phase if phase is not None else 0.0,
                           breath_rate=br, heart_rate=hr, eda_tonic=values.get("eda_tonic", math.nan),
                           stale=stale, alcove=alcove, last_seen=t - age)

    @staticmethod
    def _group(members: list[Participant], doc: dict, age: float) -> Group:
        g = _overall(members)
        g.count = doc["count"]
        g.present = 0 if members and all(p.stale for p in members) else doc["present"]
        if doc["synchrony"] is not None:
            g.synchrony = doc["synchrony"]
        if doc["mean_phase"] is not None:
            rate = g.mean.get("breath_rate", 0.0)
            g.mean_phase = (doc["mean_phase"] + 2.0 * math.pi * rate / 60.0 * min(age, 3.0)) % (2.0 * math.pi)
        return g



def _overall(people: list[Participant]) -> Group:
    """Presence, channel means and spreads, and breathing synchrony of a set of participants."""
    g = Group(count=len(people))
    present = [p for p in people if not p.stale]
    g.present = len(present)
    if len(present) >= 2:
        z = np.exp(1j * np.array([p.breath_phase for p in present])).mean()
        g.synchrony, g.mean_phase = float(abs(z)), float(np.angle(z) % (2 * np.pi))
    for name in sorted({n for p in present for n in p.values}):
        vals = np.array([p.values[name] for p in present if name in p.values])
        g.mean[name], g.spread[name] = float(vals.mean()), float(vals.std())
    return g
