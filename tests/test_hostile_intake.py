"""Hostile input never costs valid data, at the Intake: exact duplicates only, plausible times,
no stream locked out by one sample, fair admission under an id flood (issue #15)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.sources.intake import Intake, Rejects


def values(chunks) -> list[float]:
    return [float(x) for c in chunks for x in c.v]


def test_a_duplicate_needs_the_same_time_and_value_other_values_are_kept_as_coarse_time():
    it = Intake(Rejects("dup"))
    assert values(it.add("p1", "eda", [1.0, 2.0], [3.0, 4.0])) == [3.0, 4.0]
    assert values(it.add("p1", "eda", [2.0], [4.0])) == []  # the very same sample again
    assert values(it.add("p1", "eda", [2.0], [5.0])) == [5.0]  # a coarse clock: same time, new value
    assert values(it.add("p1", "eda", [1.0], [3.5])) == [3.5]  # also for an older time in the window
    assert values(it.add("p1", "eda", [3.0, 3.0, 3.0], [6.0, 6.0, 7.0])) == [6.0, 7.0]  # within a message
    assert it.rejects.counts == {"duplicate": 2, "coarse_time": 3}
    assert it.rejects.rejected == 2  # coarse_time is not a rejection


def test_forged_times_are_rejected_and_never_move_a_streams_newest_mark():
    now = 1_800_000_000.0
    it = Intake(Rejects("time"), time_window=86400.0, wall=lambda: now)
    assert values(it.add("p1", "eda", [now], [1.0])) == [1.0]
    ntp_max = float((2**64 - 1) >> 32) - 2208988800  # an OSC time tag of 2^64-1
    for forged in (1e300, ntp_max, now + 2 * 86400, now - 2 * 86400, -1e300):
        assert it.add("p1", "eda", [forged], [2.0]) == []
    got = [values(it.add("p1", "eda", [now + k * 0.01], [float(k % 20)])) for k in range(1, 1001)]
    assert sum(len(g) for g in got) == 1000  # every later valid sample (on main: 0 of 1,000)
    assert it.rejects.counts == {"bad_timestamp": 5}


def test_one_plausible_forged_time_locks_a_stream_out_for_at_most_resync_after():
    clock = [0.0]
    it = Intake(Rejects("resync"), clock=lambda: clock[0], resync_after=2.0)
    it.add("p1", "eda", [100.0], [1.0])
    it.add("p1", "eda", [100.0 + 3600], [1.0])  # an hour ahead: plausible, accepted
    kept = 0
    for k in range(1, 501):  # the real stream carries on at 100 Hz
        clock[0] = k * 0.01
        kept += len(values(it.add("p1", "eda", [100.0 + k * 0.01], [2.0])))
    assert it.rejects.counts["resync"] == 1
    assert kept >= 500 - 201 and it.rejects.counts["time_backwards"] <= 200  # lost: 2 s, not forever


def test_an_id_flood_does_not_shut_out_a_newcomer_who_sends_steadily():
    clock = [0.0]
    it = Intake(Rejects("flood"), max_participants=256, clock=lambda: clock[0])
    for k in range(255):  # a full house of real participants, all active
        it.add(f"p{k}", "eda", [0.0], [1.0])
    got = 0
    for k in range(100_000):  # 100,000 distinct valid ids, once each, over 10 s
        clock[0] = k * 1e-4
        it.add(f"flood{k}", "eda", [clock[0]], [1.0])
        if k % 32 == 0:
            got += len(values(it.add("newcomer", "eda", [clock[0]], [2.0])))
            it.add(f"p{(k // 32) % 255}", "eda", [clock[0]], [1.0])
    assert got == 3125  # every sample of the newcomer (on main: rejected while flood ids idle out)
    assert "newcomer" in it.participants and len(it.participants) == 256


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True, width=64),
                          st.floats(0.0, 100.0)), min_size=1, max_size=40))
def test_a_valid_sample_is_delivered_once_whatever_arrives_around_it(samples):
    it = Intake(Rejects("prop"), time_window=10.0, wall=lambda: 0.0)
    out = [(float(t), float(v)) for c in it.add("p1", "eda", [s[0] for s in samples], [s[1] for s in samples])
           for t, v in zip(c.t, c.v, strict=True)]
    plausible = {(t, float(np.float32(v))) for t, v in samples if abs(t) <= 10.0}
    assert set(out) == plausible and len(out) == len(plausible)  # each distinct (t, v) exactly once


def test_coarse_time_chunks_flow_through_the_signals():
    import math

    from engine.signals import Signals

    it, sig = Intake(Rejects("coarse")), Signals()
    for k in range(60):  # a sender whose clock ticks every 0.1 s, ten samples per tick
        chunks = []
        for ch in ("ecg", "respiration", "eda", "heart_rate"):
            v = np.linspace(0.2, 1.0, 10) + (60.0 if ch == "heart_rate" else 0.0)
            chunks += it.add("p01", ch, [k * 0.1] * 10, v)
        frame = sig.update(chunks, [], k * 0.1 + 0.1, k, 0.1)
    assert it.rejects.counts["coarse_time"] == 60 * 4 * 9
    p = frame.participants[0]
    assert all(math.isfinite(x) for x in (p.heart_rate, p.breath_phase, p.eda_tonic))


def test_a_budget_binds_only_under_contention_and_refills_at_its_share():
    from engine.sources.budget import MAX_KEYS, Budget

    b = Budget(0.25, burst=0.25)
    for k in range(100):  # alone, a sender may use the whole receiver: 1 s of decoding in 1 s
        assert b.allowed("hog", k * 0.01)
        b.spent("hog", 0.01)
    assert b.allowed("fair", 1.0)  # another sender: the hog is over its share and waits
    assert not b.allowed("hog", 1.0)
    assert b.allowed("fair", 1.5) and not b.allowed("hog", 1.5)  # refilling at 0.25 s a second
    assert b.allowed("fair", 2.0) and b.allowed("hog", 2.01)  # its debt (at most `burst`) repaid
    for k in range(3 * MAX_KEYS):  # port-hopping: the table stays bounded
        b.allowed(("10.0.0.1", k), 3.0 + k * 1e-6)
    assert len(b._buckets) <= MAX_KEYS


def test_the_glitchers_record_of_drops_is_bounded():
    from engine.sources.glitch import MAX_DROPPED, Glitcher

    g = Glitcher(seed=15, rate=1.0)  # every packet glitched: a quarter of them dropped
    for tick in range(20):
        g.tick(tick, [(f"p{k % 64}", "eda", [tick * 0.01 + k * 1e-5], [5.0]) for k in range(200)])
    assert 800 < len(g.dropped) < 1200  # recorded, for tests...
    assert g.dropped.maxlen == MAX_DROPPED  # ...but a long show keeps the last ones only (on main: all)
