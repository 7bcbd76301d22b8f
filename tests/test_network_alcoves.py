"""The hub's features → frame: phases advance between messages, beats follow heart rate,
silence turns an Alcove stale, departures free their slots (engine/network/alcoves.py)."""

from __future__ import annotations

import math

from engine.data import Frame, Group
from engine.network.alcoves import AlcoveState


def _doc(alcove: str, seq: int, people: dict, synchrony=0.5, mean_phase=1.0) -> dict:
    entry = {"present": True, "stale": False, "heart_rate": 60.0, "breath_rate": 15.0, "breath_phase": 0.5,
             "eda_tonic": 2.0, "saliva_ph": 7.0, "oral_temp": None, "bacterial_load": None, "biofilm": None}
    return {"v": 1, "alcove": alcove, "seq": seq, "t": 0.0, "count": len(people), "present": len(people),
            "synchrony": synchrony, "mean_phase": mean_phase,
            "participants": {k: {**entry, **v} for k, v in people.items()}}


def _frame(i: int, fps: float = 60.0) -> Frame:
    return Frame(i, i / fps, 1 / fps, [], [], Group())


def test_phases_beats_groups_and_staleness():
    state = AlcoveState(stale_after=3.0)
    a1 = _doc("a1", 0, {"k000000000001": {}, "k000000000002": {"heart_rate": None, "breath_phase": None}})
    a2 = _doc("a2", 0, {"k000000000003": {"breath_rate": 30.0}}, synchrony=None, mean_phase=None)
    beats = 0
    for i in range(120):  # two seconds at 60 fps, the messages 0.5 s old
        f = _frame(i)
        state.apply(f, {"a1": (0.5, a1), "a2": (0.5, a2)})
        beats = f.participants[0].beat_count
    p1, p2, p3 = f.participants
    assert (p1.id, p1.alcove, p3.alcove) == ("a1-k000000000001", "a1", "a2")
    assert math.isclose(p1.breath_phase, (0.5 + 2 * math.pi * 15 / 60 * 0.5) % (2 * math.pi))
    assert math.isclose(p1.breath, math.cos(p1.breath_phase))
    assert p2.breath_phase == 0.0 and p2.breath == 0.0 and math.isnan(p2.heart_rate) and p2.beat_count == 0
    assert beats == 1  # 60 bpm for (119/60) s: one wrap of the heart phase
    assert p1.values == {"heart_rate": 60.0, "breath_rate": 15.0, "eda_tonic": 2.0, "saliva_ph": 7.0}
    g1 = f.alcoves["a1"]
    assert (g1.count, g1.present, g1.synchrony) == (2, 2, 0.5)
    assert math.isclose(g1.mean_phase, (1.0 + 2 * math.pi * 15 / 60 * 0.5) % (2 * math.pi))
    assert f.group.count == 3 and f.group.present == 3 and math.isclose(f.group.mean["eda_tonic"], 2.0)
    # silence: the Alcove's message is older than stale_after
    f = _frame(120)
    state.apply(f, {"a1": (3.5, a1), "a2": (0.5, a2)})
    assert all(p.stale for p in f.participants if p.alcove == "a1") and f.alcoves["a1"].present == 0
    assert not f.alcoves["a1"].mean and f.group.present == 1
    # a1 leaves; a new Alcove reuses its slots
    slots = {p.slot for p in f.participants if p.alcove == "a1"}
    f = _frame(121)
    state.apply(f, {"a2": (0.5, a2)})
    assert {p.alcove for p in f.participants} == {"a2"} and "a1" not in f.alcoves
    f = _frame(122)
    state.apply(f, {"a2": (0.5, a2), "a3": (0.0, _doc("a3", 0, {"k000000000009": {}}))})
    assert f.participants[1].alcove == "a3" and f.participants[1].slot in slots


def test_the_same_snapshots_give_the_same_frames():
    """What a render node relies on: two states fed the same snapshots agree exactly."""
    docs = [_doc("a1", s, {f"k00000000000{j}": {"breath_phase": 0.3 * s + j} for j in range(4)})
            for s in range(3)]
    a, b = AlcoveState(), AlcoveState()
    for i in range(60):
        snap = {"a1": (0.01 * (i % 6), docs[i // 20])}
        fa, fb = _frame(i), _frame(i)
        a.apply(fa, snap)
        b.apply(fb, {"a1": (snap["a1"][0], dict(docs[i // 20]))})
        assert [p.__dict__ for p in fa.participants] == [p.__dict__ for p in fb.participants]
        assert fa.alcoves == fb.alcoves and fa.group == fb.group
