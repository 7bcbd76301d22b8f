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
    assert 0.6 < p.pulse <= 1.0 and p.beat_count == 1
    frame = sig.update([], [], 2.0, 1, 1.0)
    assert frame.participants[0].pulse < 0.01
    # a third participant exceeds the scene's cap: ignored (the scene's choice), not a rejection
    sig.update([Chunk(pid, "eda", np.array([3.0]), np.array([1.0], np.float32))
                for pid in ("p1", "p2")], [], 3.0, 2, 1.0)
    assert sig.beyond_cap == {"p2"} and "participant_cap" not in sig.rejected


# -- ring buffers, presence, features --------------------------------------------------------
import pytest  # noqa: E402

from engine.signals import EcgBeats, PpgBeats, Ring  # noqa: E402


def test_ring_keeps_the_newest_samples_in_order_and_merges_late_ones():
    r = Ring(capacity=100)
    t = np.arange(250, dtype=np.float64)
    for a in range(0, 250, 7):
        r.extend(t[a:a + 7], t[a:a + 7].astype(np.float32))
    rt, rv = r.arrays()
    np.testing.assert_array_equal(rt, t[-100:])
    np.testing.assert_array_equal(rv, t[-100:].astype(np.float32))
    r.extend(np.array([200.5]), np.array([-1.0], np.float32))  # late, inside the window
    rt, rv = r.arrays()
    assert rt.size == 100 and np.all(np.diff(rt) > 0) and -1.0 in rv
    assert r.arrays(seconds=10.0)[0][0] >= 239.0


def _ecg(t: np.ndarray, hr: float) -> np.ndarray:
    """QRS-like spikes (with a T wave) at a fixed rate."""
    phase = (t * hr / 60.0) % 1.0
    return (1.2 * np.exp(-((phase - 0.2) ** 2) / 2e-4) + 0.25 * np.exp(-((phase - 0.5) ** 2) / 4e-3)
            + 0.02 * np.sin(2 * np.pi * 0.3 * t))


def _ppg(t: np.ndarray, hr: float) -> np.ndarray:
    phase = (t * hr / 60.0) % 1.0
    return np.exp(-((phase - 0.3) ** 2) / 0.01) + 0.3 * np.exp(-((phase - 0.65) ** 2) / 0.005)


@pytest.mark.parametrize(("channel", "fs", "hr"), [("ecg", 250.0, 72.0), ("ecg", 500.0, 118.0),
                                                   ("ppg", 64.0, 58.0), ("ppg", 400.0, 95.0)])
def test_beats_from_raw_waveforms(channel, fs, hr):
    sig = Signals(max_participants=1)
    t = np.arange(int(40 * fs)) / fs
    x = (_ecg if channel == "ecg" else _ppg)(t, hr).astype(np.float32)
    beats = []
    n = int(fs / 30)
    for k, i in enumerate(range(0, t.size, n)):
        now = float(t[min(i + n, t.size - 1)])
        frame = sig.update([Chunk("p1", channel, t[i:i + n], x[i:i + n])], [], now, k, 1 / 30)
        found = [e.t for e in frame.events if e.kind == "beat"]
        if found:  # the glow starts when the beat is detected, whatever the detector's latency
            assert frame.participants[0].pulse == 1.0
        beats += found
    p = frame.participants[0]
    assert abs(p.heart_rate - hr) < 1.0 and abs(p.get("heart_rate") - hr) < 1.0
    assert abs(60.0 / np.diff(beats[2:]).mean() - hr) < 1.0
    assert p.beat_count == len(beats)


def test_detectors_do_not_depend_on_how_the_stream_is_cut():
    fs = 360.0
    t = np.arange(int(30 * fs)) / fs
    x = _ecg(t, 80.0) + 0.05 * np.random.default_rng(1).standard_normal(t.size)
    results = []
    for sizes in ((7,), (100,), (1, 3, 50, 400)):
        det, out, i, k = EcgBeats(), [], 0, 0
        while i < t.size:
            n = sizes[k % len(sizes)]
            out += det.process(t[i:i + n], x[i:i + n])
            i, k = i + n, k + 1
        results.append(np.array(out))
    for other in results[1:]:
        np.testing.assert_allclose(other, results[0], atol=1e-9)


def test_features_are_causal():
    """Beats reported before time T are the same whether or not the stream continues after T."""
    fs = 128.0
    t = np.arange(int(40 * fs)) / fs
    x = _ppg(t, 66.0) + 0.05 * np.sin(2 * np.pi * 0.2 * t)
    full, cut = PpgBeats(), PpgBeats()
    beats_full = full.process(t, x)
    stop = int(20 * fs)
    beats_cut = cut.process(t[:stop], x[:stop])
    assert beats_cut == [b for b in beats_full if b in beats_cut]
    assert beats_full[:len(beats_cut)] == beats_cut


def test_eda_tonic_and_phasic():
    sig = Signals(max_participants=1)
    fs = 32.0
    t = np.arange(int(60 * fs)) / fs
    x = 4.0 + 0.01 * t
    for onset in (20.0, 40.0):  # two skin conductance responses
        u = np.clip(t - onset, 0, None)
        x = x + 0.6 * (np.exp(-u / 4.0) - np.exp(-u / 0.75)) * (t > onset)
    scr, phasic_peak = [], 0.0
    for k, i in enumerate(range(0, t.size, 16)):
        frame = sig.update([Chunk("p1", "eda", t[i:i + 16], x[i:i + 16].astype(np.float32))], [],
                           float(t[min(i + 16, t.size - 1)]), k, 0.5)
        scr += [e.t for e in frame.events if e.kind == "scr"]
        phasic_peak = max(phasic_peak, frame.participants[0].eda_phasic)
    p = frame.participants[0]
    assert len(scr) == 2 and 20.0 < scr[0] < 25.0 and 40.0 < scr[1] < 45.0, scr
    assert phasic_peak > 0.2
    assert abs(p.eda_tonic - 4.6) < 0.3 and p.get("eda_tonic") == p.eda_tonic


def test_stale_active_and_left_with_slot_reuse():
    sig = Signals(max_participants=2, stale_after=2.0, left_after=5.0)
    kinds: list[tuple[str, str]] = []

    def step(t: float, pids: tuple[str, ...]) -> None:
        chunks = [Chunk(pid, "heart_rate", np.array([t]), np.array([70.0], np.float32)) for pid in pids]
        frame = sig.update(chunks, [], t, int(t * 10), 0.1)
        kinds.extend((e.kind, e.participant) for e in frame.events if e.kind != "breath")
        return frame

    for k in range(10):
        step(k * 0.1, ("a", "b"))
    assert ("join", "a") in kinds and ("join", "b") in kinds
    frame = step(3.0, ("a",))
    assert ("stale", "b") in kinds and [p.stale for p in frame.participants] == [False, True]
    assert frame.group.count == 2 and frame.group.present == 1
    frame = step(3.5, ("a", "b"))
    assert ("active", "b") in kinds
    frame = step(9.0, ("a",))
    assert ("left", "b") in kinds and [p.id for p in frame.participants] == ["a"]
    slot_b = 1
    frame = step(9.1, ("a", "c"))  # a newcomer gets the freed slot
    assert {p.id: p.slot for p in frame.participants} == {"a": 0, "c": slot_b}
    assert sig.rejected.get("participant_cap", 0) == 0


def test_late_samples_are_kept_but_not_fed_to_features_and_bad_ids_are_rejected():
    sig = Signals()
    sig.update([Chunk("p1", "eda", np.array([1.0, 2.0]), np.array([3.0, 3.1], np.float32))], [], 2.0, 0, 1)
    sig.update([Chunk("p1", "eda", np.array([1.5]), np.array([9.0], np.float32))], [], 2.1, 1, 0.1)
    t, v = sig.history("p1", "eda")
    np.testing.assert_array_equal(t, [1.0, 1.5, 2.0])
    assert sig.rejected["late_for_features"] == 1
    frame = sig.update([Chunk("Dr. Who?", "eda", np.array([3.0]), np.array([1.0], np.float32))], [], 3, 2, 1)
    assert [p.id for p in frame.participants] == ["p1"] and sig.rejected["bad_participant"] == 1
    assert sig.history("nobody", "eda")[0].size == 0


def test_group_metrics_per_alcove():
    sig = Signals()
    chunks = [Chunk(pid, "heart_rate", np.array([1.0]), np.array([hr], np.float32), alcove=alc)
              for pid, hr, alc in (("p1", 60.0, "a1"), ("p2", 70.0, "a1"), ("p3", 90.0, "a2"))]
    frame = sig.update(chunks, [], 1.0, 0, 1.0)
    assert frame.group.count == 3 and frame.group.mean["heart_rate"] == pytest.approx(220 / 3)
    assert set(frame.alcoves) == {"a1", "a2"}
    assert frame.alcoves["a1"].count == 2 and frame.alcoves["a1"].mean["heart_rate"] == 65.0
    assert frame.alcoves["a2"].spread["heart_rate"] == 0.0
    assert [p.alcove for p in frame.participants] == ["a1", "a1", "a2"]


def test_participants_beyond_a_scenes_cap_are_ignored_quietly_and_the_operator_told_once(caplog):
    """microbiome_workshop draws 6 of the default Alcove's 8: not bad input, so no glitch."""
    import logging

    from engine.clock import FixedClock
    from engine.runtime import Show
    from engine.scene import create_scene
    from engine.sources import open_source

    scene = create_scene("microbiome_workshop", seed=0)
    assert scene.max_participants == 6
    with caplog.at_level(logging.WARNING, logger="symphony"), open_source("synthetic", seed=0) as src:
        show = Show(scene, src, FixedClock(30.0))
        frames = [show.advance() for _ in range(90)]
    assert len(show.signals.beyond_cap) == 2 and show.signals.beyond_cap_ignored > 90
    assert max(f.glitch.level for f in frames) == 0.0 and sum(f.glitch.count for f in frames) == 0
    assert len({p.id for p in frames[-1].participants}) == 6
    told = [r.getMessage() for r in caplog.records if "draws up to 6 participants" in r.getMessage()]
    assert len(told) == 1, told
