"""The synthetic Alcove: plausible physiology, units, seeded determinism, synchrony schedule."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data import CHANNELS
from engine.signals import Signals
from engine.sources import SourceError, open_source
from engine.sources.synthetic import SyntheticAlcove


def collect(src: SyntheticAlcove, seconds: float, fps: float = 30.0):
    chunks, events = [], []
    for i in range(int(seconds * fps) + 1):
        c, e = src.poll(i / fps)
        chunks += c
        events += e
    series: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for c in chunks:
        t, v = series.get((c.participant, c.channel), (np.zeros(0), np.zeros(0, np.float32)))
        series[(c.participant, c.channel)] = (np.concatenate([t, c.t]), np.concatenate([v, c.v]))
    return series, events


@pytest.fixture(scope="module")
def two_minutes():
    src = SyntheticAlcove(participants=6, seed=4)
    return src, *collect(src, 120.0)


def test_every_channel_has_a_unit_and_stays_in_range(two_minutes):
    src, series, _ = two_minutes
    channels = {ch for _, ch in series}
    assert channels == {"heart_rate", "respiration", "eda", "saliva_ph", "oral_temp",
                        "bacterial_load", "biofilm"}
    for (_, ch), (t, v) in series.items():
        spec = CHANNELS[ch]
        assert spec.unit
        assert np.all(np.isfinite(v))
        assert np.all(np.diff(t) > 0), f"{ch} timestamps must increase"
        if ch in ("heart_rate", "eda", "saliva_ph", "oral_temp", "bacterial_load", "biofilm"):
            assert v.min() >= spec.low and v.max() <= spec.high, ch
    for ch in ("saliva_ph", "oral_temp", "bacterial_load", "biofilm"):
        assert CHANNELS[ch].simulated


def test_heart_rate_and_beats_are_plausible(two_minutes):
    src, series, events = two_minutes
    for pid in src.ids:
        beats = np.array([e.t for e in events if e.kind == "beat" and e.participant == pid])
        rr = np.diff(beats)
        mean_hr = 60.0 / rr.mean()
        assert 55.0 <= mean_hr <= 110.0
        assert rr.std() / rr.mean() > 0.01, "beat-to-beat variability"
        _, hr = series[(pid, "heart_rate")]
        assert len(hr) == len(beats)
        assert abs(hr.mean() - mean_hr) < 3.0


def test_breathing_rate_and_eda(two_minutes):
    src, series, _ = two_minutes
    for pid in src.ids:
        t, resp = series[(pid, "respiration")]
        assert abs(np.median(np.diff(t)) - 0.04) < 1e-9  # 25 Hz
        x = resp - resp.mean()
        ups = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
        ups = ups[np.concatenate([[True], np.diff(ups) > 25])]  # debounce noise crossings
        rate = 60.0 * (len(ups) - 1) / (t[ups[-1]] - t[ups[0]])
        assert 10.0 <= rate <= 20.0, rate
        _, eda = series[(pid, "eda")]
        assert eda.min() > 0.3
        assert np.ptp(eda) > 0.05, "phasic responses or drift"


def test_same_seed_same_data_whatever_the_poll_rate():
    a, _ = collect(SyntheticAlcove(participants=3, seed=9), 20.0, fps=30.0)
    b, _ = collect(SyntheticAlcove(participants=3, seed=9), 20.0, fps=7.0)
    c, _ = collect(SyntheticAlcove(participants=3, seed=10), 20.0, fps=30.0)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key][0], b[key][0])
        np.testing.assert_array_equal(a[key][1], b[key][1])
    assert not np.array_equal(a[("p00", "respiration")][1], c[("p00", "respiration")][1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ritual_schedule_synchronises_breathing(seed):
    src = SyntheticAlcove(participants=8, seed=seed, sync_period=30.0)
    signals = Signals()
    early, coupled = [], []
    for i in range(int(22 * 30)):
        t = i / 30
        frame = signals.update(*src.poll(t), t, i, 1 / 30)
        if 2.5 <= t <= 3.5:
            early.append(frame.group.synchrony)
        if 14.0 <= t <= 20.0:
            coupled.append(frame.group.synchrony)
    assert np.mean(coupled) > 0.85
    assert np.mean(coupled) > np.mean(early) + 0.25


def test_default_ritual_tells_the_story_in_ten_seconds():
    """The 10-second demo: apart at first, in step in the middle, loosening at the end."""
    src = SyntheticAlcove(participants=8, seed=0)
    signals = Signals()
    sync = []
    for i in range(300):
        t = (i + 1) / 30
        sync.append(signals.update(*src.poll(t), t, i, 1 / 30).group.synchrony)
    sync = np.array(sync)
    apart, together, loose = sync[60:105].mean(), sync[180:225].mean(), sync[285:].mean()
    assert apart < 0.5 and together > 0.85, (apart, together)
    assert loose < together - 0.2, (loose, together)


def test_source_spec_errors_are_clear():
    assert open_source("synthetic:participants=3,seed=2").n == 3
    assert open_source("synthetic", seed=7).seed == 7
    assert open_source("synthetic:seed=1", seed=7).seed == 1  # the spec wins over --seed
    with pytest.raises(SourceError, match="unknown option 'colour'"):
        open_source("synthetic:colour=red")
    with pytest.raises(SourceError, match="expects int"):
        open_source("synthetic:participants=many")
    with pytest.raises(SourceError, match="between 1 and 256"):
        open_source("synthetic:participants=0")
    with pytest.raises(SourceError, match="unknown source kind"):
        open_source("telepathy")


# -- glitches ---------------------------------------------------------------------------------
def digest(src: SyntheticAlcove, seconds: float = 20.0, fps: float = 30.0) -> str:
    import hashlib

    h = hashlib.sha256()
    for i in range(1, int(seconds * fps) + 1):
        chunks, events = src.poll(i / fps)
        for c in chunks:
            h.update(f"{c.participant}/{c.channel}".encode())
            h.update(np.ascontiguousarray(c.t).tobytes())
            h.update(np.ascontiguousarray(c.v).tobytes())
        for e in events:
            h.update(repr((e.t, e.kind, e.participant, e.value)).encode())
    return h.hexdigest()


def test_glitch_zero_is_byte_identical_to_the_foundation_generator():
    # digest of SyntheticAlcove(participants=5, seed=11) polled at 30 fps for 20 s, computed with
    # the generator without glitches (as of the 12-second story ritual, issue 13): glitch=0 must
    # not change a byte
    golden = "35023b2da4b76625838c17966f2e7aa88e5675b8b8eef4a950fbc0c5817e0165"
    assert digest(SyntheticAlcove(participants=5, seed=11)) == golden
    assert digest(SyntheticAlcove(participants=5, seed=11, glitch=0.0)) == golden


def test_glitched_output_is_deterministic_whatever_the_poll_rate():
    a, _ = collect(SyntheticAlcove(participants=3, seed=5, glitch=0.2), 15.0, fps=30.0)
    b, _ = collect(SyntheticAlcove(participants=3, seed=5, glitch=0.2), 15.0, fps=11.0)
    assert a.keys() == b.keys()
    for key in a:  # the same samples; grouping into polls may differ, so compare sorted
        oa, ob = np.argsort(a[key][0], kind="stable"), np.argsort(b[key][0], kind="stable")
        np.testing.assert_array_equal(a[key][0][oa], b[key][0][ob])
        np.testing.assert_array_equal(a[key][1][oa], b[key][1][ob])


def test_glitches_never_lose_valid_data_and_every_garbage_kind_is_counted():
    src = SyntheticAlcove(participants=4, seed=3, glitch=0.25)
    glitched, _ = collect(src, 30.0)
    clean, _ = collect(SyntheticAlcove(participants=4, seed=3), 30.0)
    g = src.glitch
    assert g is not None and len(g.dropped) > 50
    dropped = set(g.dropped)
    horizon = 29.0  # delayed packets may still be in flight at the end
    for key, (t, v) in clean.items():
        tg, vg = glitched[key]
        order = np.argsort(tg, kind="stable")
        tg, vg = tg[order], vg[order]
        assert np.all(np.diff(tg) > 0), "duplicates must not get through"
        want = np.array([(key[0], key[1], x) not in dropped for x in t.tolist()]) & (t < horizon)
        np.testing.assert_array_equal(tg[tg < horizon], t[want])
        np.testing.assert_array_equal(vg[tg < horizon], v[want])
    counts = src.rejects.counts
    assert set(g.injected) == {"nan", "inf", "range", "channel", "participant", "backwards", "type",
                               "oversize"}
    for reason in ("non_finite", "out_of_range", "unknown_channel", "bad_participant", "time_backwards",
                   "wrong_type", "oversize", "duplicate"):
        assert counts.get(reason, 0) > 0, reason
    assert counts["late"] > 0  # delayed packets arrived out of order, and were kept
    assert counts["bad_participant"] == g.injected["participant"]
    assert counts["unknown_channel"] == g.injected["channel"]


def test_glitched_show_keeps_running():
    src = open_source("synthetic:participants=6,seed=2,glitch=0.5")
    signals = Signals()
    for i in range(300):
        frame = signals.update(*src.poll(i / 30), i / 30, i, 1 / 30)
    assert frame.group.count == 6
    assert all(np.isfinite(p.breath_rate) for p in frame.participants)
    with pytest.raises(SourceError, match="glitch must be between 0 and 1"):
        open_source("synthetic:glitch=2")


def _glitch_levels(rate: float) -> np.ndarray:
    from engine.clock import FixedClock
    from engine.runtime import Show
    from engine.scene import Scene

    show = Show(Scene(), open_source(f"synthetic:participants=8,seed=3,glitch={rate}"), FixedClock(30))
    frames = [show.advance() for _ in range(150)]
    assert all(f.glitch.count >= 0 for f in frames)
    return np.array([f.glitch.level for f in frames[30:]])


def test_the_glitch_level_is_usable_not_stuck_at_one():
    """frame.glitch.level grows with the bad input and moves with it: under glitch=0.3 it
    neither sits at 1 nor at 0 (it used to read 1.0 on every frame from glitch=0.1 up)."""
    clean, light, heavy = (_glitch_levels(r) for r in (0.0, 0.05, 0.3))
    assert clean.max() == 0.0
    assert 0.05 < light.mean() < heavy.mean() < 0.9, (light.mean(), heavy.mean())
    assert heavy.max() < 1.0 and heavy.std() > 0.01


def _synchrony(spec: str, seconds: float = 4.0) -> np.ndarray:
    src, signals = open_source(spec), Signals()
    out = []
    for i in range(int(seconds * 30)):
        t = (i + 1) / 30
        out.append(signals.update(*src.poll(t), t, i, 1 / 30).group.synchrony)
    return np.array(out)


def test_a_start_phase_lets_a_short_render_show_the_braid():
    """At seed 3 the default ritual reaches synchrony after about 6 s; starting the schedule
    a fifth of the way through a 6 s period has the group in step from the first seconds."""
    default = _synchrony("synthetic:seed=3")
    early = _synchrony("synthetic:seed=3,sync_period=6,phase=0.2")
    assert early[60:90].mean() > 0.8 and default[60:90].mean() < 0.3, (early[60:90].mean(),
                                                                        default[60:90].mean())
    assert open_source("synthetic:phase=0.5").phase == 0.5
    with pytest.raises(SourceError, match="phase must be between 0 and 1"):
        open_source("synthetic:phase=1.5")


def test_a_stalled_host_costs_at_most_one_second_of_catch_up(caplog):
    """After a stall the live clock jumps: in a live show the source makes up at most MAX_CATCH_UP
    of data in one poll (generating a minute of 64 participants at once made the next frame later
    still), skips the rest with a count and a log line, and carries on from the clock's time."""
    from engine.runtime import MAX_CATCH_UP

    src = SyntheticAlcove(participants=8, seed=2)
    src.max_catch_up = MAX_CATCH_UP  # as a live Show sets it
    for i in range(61):
        src.poll(i / 30)
    with caplog.at_level("WARNING", logger="symphony"):
        chunks, _ = src.poll(62.0)  # the host froze for a minute
    times = np.concatenate([c.t for c in chunks])
    assert times.min() >= 62.0 - MAX_CATCH_UP - 1e-9 and times.max() <= 62.0
    assert src.skipped_s == pytest.approx(62.0 - 2.0 - MAX_CATCH_UP, abs=0.05)
    assert "skipped" in caplog.text
    chunks, _ = src.poll(62.0 + 1 / 30)  # and the next frame is an ordinary one
    assert all(c.t.min() > 62.0 - 1e-9 for c in chunks)
    assert src.skipped_s == pytest.approx(62.0 - 2.0 - MAX_CATCH_UP, abs=0.05)


def test_live_shows_cap_the_catch_up_and_offline_polls_generate_everything():
    from engine.clock import FixedClock, RealtimeClock
    from engine.runtime import MAX_CATCH_UP, Show
    from engine.scene import create_scene

    live, offline = SyntheticAlcove(participants=2, seed=1), SyntheticAlcove(participants=2, seed=1)
    Show(create_scene("tapestry", seed=1), live, RealtimeClock(), live=True)
    Show(create_scene("tapestry", seed=1), offline, FixedClock(30.0))
    assert live.max_catch_up == MAX_CATCH_UP and offline.max_catch_up is None
    chunks, _ = offline.poll(4.0)  # a reference generator: everything up to t
    assert min(c.t.min() for c in chunks) < 0.1 and offline.skipped_s == 0.0
