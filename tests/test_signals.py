"""Signals: causal breathing phase/rate, heartbeat envelope, group synchrony, bad values."""

from __future__ import annotations

import math

import numpy as np

from engine.data import Chunk, Event
from engine.signals import BreathTracker, Signals


def test_breath_tracker_follows_a_clean_breath():
    tr = BreathTracker()
    rate = 15.0  # breaths per minute
    w = 2 * math.pi * rate / 60
    errors = []
    for k in range(25 * 60):
        t = k / 25
        tr.push(t, 3.0 + 0.8 * math.cos(w * t))
        if t > 20:
            err = (tr.phase - (w * t) % (2 * math.pi) + math.pi) % (2 * math.pi) - math.pi
            errors.append(abs(err))
    assert abs(tr.rate - rate) < 0.5
    assert np.median(errors) < 0.25  # radians; causal smoothing lags a little


def _resp(pid: str, t0: float, t1: float, phase: float) -> Chunk:
    t = np.arange(t0, t1, 0.04)
    return Chunk(pid, "respiration", t, np.cos(2 * np.pi * 0.25 * t + phase).astype(np.float32))


def test_synchrony_is_high_in_phase_and_low_out_of_phase():
    for offsets, expect_high in (((0.0, 0.05, -0.05), True), ((0.0, 2.1, 4.2), False)):
        sig = Signals()
        frame = None
        for step in range(30):
            t0, t1 = step * 0.5, (step + 1) * 0.5
            chunks = [_resp(f"p{i}", t0, t1, off) for i, off in enumerate(offsets)]
            frame = sig.update(chunks, [], t1, step, 0.5)
        assert frame.group.count == 3
        assert (frame.group.synchrony > 0.9) if expect_high else (frame.group.synchrony < 0.3)


def test_beats_and_bad_values():
    sig = Signals(max_participants=2)
    bad = Chunk("p0", "eda", np.array([0.0, 0.1, 0.2]), np.array([np.nan, 5.0, np.inf], np.float32))
    frame = sig.update([bad], [Event(0.95, "beat", "p0", 70.0)], 1.0, 0, 1.0)
    p = frame.participants[0]
    assert p.raw["eda"] == 5.0
    assert sig.rejected["non_finite"] == 2
    assert 0.6 < p.beat <= 1.0 and p.beats == 1
    frame = sig.update([], [], 2.0, 1, 1.0)
    assert frame.participants[0].beat < 0.01
    # a third participant exceeds the cap: counted, not crashed
    sig.update([Chunk(pid, "eda", np.array([3.0]), np.array([1.0], np.float32))
                for pid in ("p1", "p2")], [], 3.0, 2, 1.0)
    assert sig.rejected["participant_cap"] == 1
