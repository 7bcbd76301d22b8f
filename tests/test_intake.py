"""Validation of raw input (every reason in the Intake table), quiet logging, and spec parsing."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data import CHANNELS, register_channel
from engine.sources import SourceError, open_source
from engine.sources.intake import Intake, Rejects
from engine.sources.spec import parse_spec


def fresh(**kw) -> Intake:
    return Intake(Rejects("test"), **kw)


def values(chunks) -> list[float]:
    return [float(x) for c in chunks for x in c.v]


def test_each_reason_is_counted_and_valid_samples_pass():
    it = fresh(max_participants=2)
    assert values(it.add("p1", "heart_rate", [1.0, 2.0], [60, 61])) == [60.0, 61.0]
    assert it.add("Jane Doe", "heart_rate", [3.0], [60]) == []
    assert it.add("p1", "mood", [3.0], [1]) == []
    assert it.add("p1", "heart_rate", [3.0], ["fast"]) == []
    assert it.add("p1", "heart_rate", [3.0, math.nan], [60, 61]) != []  # the good one passes
    assert values(it.add("p1", "heart_rate", [4.0, 5.0], [math.nan, math.inf])) == []
    assert values(it.add("p1", "heart_rate", [6.0, 7.0], [10_000.0, 225.0])) == [220.0]  # far out, clamped
    assert it.add("p1", "heart_rate", [7.0], [220]) == []  # duplicate: same time and value
    assert values(it.add("p1", "heart_rate", [6.5], [70])) == [70.0]  # late, inside the window: kept
    assert it.add("p1", "heart_rate", [1.0], [70]) == []  # far behind: time going backwards
    assert it.add("p2", "heart_rate", [1.0], [70]) != [] and it.add("p2", "heart_rate", [2.0], [70]) != []
    assert it.add("p2", "heart_rate", [3.0], [70]) != [] and it.add("p3", "heart_rate", [1.0], [70]) == []
    assert it.add("p1", "heart_rate", np.zeros(70_000), np.zeros(70_000)) == []
    assert it.add("p1", "heart_rate", [8.0, 9.0], [70]) == []
    c = it.rejects.counts
    assert c == {"bad_participant": 1, "unknown_channel": 1, "wrong_type": 1, "bad_timestamp": 1,
                 "non_finite": 2, "out_of_range": 1, "clamped": 1, "duplicate": 1, "late": 1,
                 "time_backwards": 1, "participant_cap": 1, "oversize": 70_000, "malformed": 1}
    assert it.rejects.rejected == sum(c.values()) - c["clamped"] - c["late"]


def test_a_flood_of_bad_input_is_logged_a_few_times_only(caplog):
    clock = [0.0]
    rejects = Rejects("flood", every=10.0, clock=lambda: clock[0])
    it = Intake(rejects, max_participants=8)
    with caplog.at_level(logging.WARNING, logger="symphony.sources"):
        for k in range(20_000):
            clock[0] = k * 0.001  # 20 s of a thousand bad packets a second
            it.add(f"id {k}", "heart_rate", [1.0], [60])  # a flood of bad ids
            it.add(f"id{k}", "heart_rate", [1.0], [60])  # and of new ids: they churn among themselves
            it.add("p1", "heart_rate", [1.0], [math.nan])
    assert rejects.counts["bad_participant"] == 20_000 and rejects.counts["non_finite"] == 20_000
    assert 2 <= rejects.logged <= 6 and len(caplog.records) == rejects.logged
    assert not any("id1" in r.getMessage() for r in caplog.records)  # ids are never echoed
    assert len(it.participants) == 8 and "p1" in it.participants  # bounded; p1 keeps its place


def test_custom_channels_can_be_registered():
    register_channel("calm_index", "0-1", 0.0, 1.0, 2.0)
    assert CHANNELS["calm_index"].unit == "0-1"
    assert values(fresh().add("p1", "calm_index", [1.0], [0.5])) == [0.5]
    with pytest.raises(ValueError):
        register_channel("Bad Name", "x", 0, 1)
    with pytest.raises(ValueError):
        register_channel("calm_index", "other", 0, 1)


anything = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40),
                     st.lists(st.floats(), max_size=5), st.lists(st.text(max_size=3), max_size=3),
                     st.binary(max_size=10))


@settings(max_examples=400, deadline=None, database=None)
@given(pid=anything, channel=anything, t=anything, v=anything)
def test_intake_never_raises_and_only_lets_clean_samples_through(pid, channel, t, v):
    it = fresh()
    for chunk in it.add(pid, channel, t, v):
        spec = CHANNELS[chunk.channel]
        assert np.all(np.isfinite(chunk.v)) and np.all(np.isfinite(chunk.t))
        assert chunk.v.min() >= spec.low and chunk.v.max() <= spec.high
        assert np.all(np.diff(chunk.t) > 0)


def test_source_specs():
    assert parse_spec("osc://127.0.0.1:9000") == ("osc", {"host": "127.0.0.1", "port": "9000"})
    assert parse_spec("mqtt://u:p%40ss@127.0.0.1:1883/owl/#?tls=1&ca=/x.pem") == (
        "mqtt", {"host": "127.0.0.1", "port": "1883", "topic": "owl/#", "username": "u",
                 "password": "p@ss", "tls": "1", "ca": "/x.pem"})
    assert parse_spec("lsl://") == ("lsl", {"query": ""})
    assert parse_spec("lsl://p01/ecg?timeout=1") == ("lsl", {"query": "p01/ecg", "timeout": "1"})
    assert parse_spec("replay:a.xdf?speed=2") == ("replay", {"path": "a.xdf", "speed": "2"})
    assert parse_spec("synthetic:participants=3,glitch=0.1") == ("synthetic", {"participants": "3",
                                                                               "glitch": "0.1"})
    with pytest.raises(SourceError, match="unknown option 'colour'"):
        open_source("osc://127.0.0.1:9000?colour=red")
    with pytest.raises(SourceError, match="expects int"):
        open_source("osc://127.0.0.1:port")
    with pytest.raises(SourceError, match="does not exist"):
        open_source("replay:/nonexistent/session.xdf")
    with pytest.raises(SourceError, match="CA file"):
        open_source("mqtt://127.0.0.1:1883/owl/#?tls=1&ca=/nonexistent.pem")
    try:
        open_source("mqtt://me:secret@127.0.0.1:1883/owl/#?qos=7")
    except SourceError as exc:
        assert "secret" not in str(exc)


@settings(max_examples=500, deadline=None, database=None)
@given(st.one_of(st.text(max_size=80),
                 st.builds(lambda a, b, c: f"{a}://{b}{c}", st.sampled_from(["osc", "mqtt", "lsl", "x"]),
                           st.text(max_size=40), st.text(max_size=20)),
                 st.builds(lambda a, b: f"{a}:{b}", st.sampled_from(["synthetic", "replay", "osc"]),
                           st.text(max_size=40))))
def test_spec_parsing_never_fails_with_anything_but_a_source_error(spec):
    try:
        kind, options = parse_spec(spec)
    except SourceError:
        return
    assert isinstance(kind, str) and all(isinstance(v, str) for v in options.values())


def test_a_full_cap_makes_room_by_forgetting_idle_ids():
    clock = [0.0]
    it = Intake(Rejects("cap"), max_participants=2, idle_forget=60.0, clock=lambda: clock[0])
    for k in range(3):  # both send steadily: their places are theirs
        assert it.add("p1", "eda", [1.0 + k], [2.0]) and it.add("p2", "eda", [1.0 + k], [2.0])
    assert it.add("p3", "eda", [1.0], [2.0]) == []  # full
    clock[0] = 30.0
    assert it.add("p2", "eda", [4.0], [2.0])  # p2 is still active
    clock[0] = 70.0
    assert it.add("p3", "eda", [3.0], [2.0])  # p1 has been idle 70 s: forgotten, p3 takes the place
    assert it.participants == {"p2", "p3"} and it.rejects.counts["participant_cap"] == 1
