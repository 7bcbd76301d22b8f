"""Files never break: whatever arrived, pyxdf loads what the engine writes; readers and `inspect`
are total over damaged inputs, with one line and no third-party traceback (issue #15)."""

from __future__ import annotations

import logging
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import pyxdf

from engine.recording.inspect import format_summary, inspect_file
from engine.recording.readers import load_recording
from engine.recording.recorder import Recorder
from engine.recording.session import record_session
from engine.recording.xdf import XdfWriter
from engine.sources.base import SourceError

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ["a\x01b", "\u202eevil", "x" * 65000, "<tag>&\x00", "\ud800", "\x1b[31mred"]


def _sample_file(path: Path) -> Path:
    w = XdfWriter(path, {"clock": "show"})
    a = w.add_stream("p01/eda", "eda", desc={"alcove": "a1"})
    w.add_stream("p02/ecg", "ecg")  # declared, never a sample
    t = np.arange(3000) / 100.0
    w.samples(a, t, (5 + np.sin(t)).astype(np.float32))
    m = w.add_stream("markers", "Markers", "string")
    w.strings(m, [1.0, 2.0], ['{"kind": "cue"}', "\ud800\x01"])
    w.close()
    return path


def test_pyxdf_loads_every_file_the_engine_writes_whatever_the_names(tmp_path):
    w = XdfWriter(tmp_path / "h.xdf", {"note": HOSTILE[0]})
    for k, name in enumerate(HOSTILE):
        sid = w.add_stream(f"{name}/eda", "eda", desc={"alcove": name, "participant": name})
        if k % 2:
            w.samples(sid, np.array([1.0, 2.0]), np.array([3.0, 4.0], np.float32))
    w.add_stream("empty/eda", "eda")  # zero samples: on main, `cannot reshape` in our reader
    w.close()
    streams, _ = pyxdf.load_xdf(str(tmp_path / "h.xdf"))  # on main: ExpatError for the whole file
    assert len(streams) == len(HOSTILE) + 1
    assert all(len(s["info"]["name"][0]) <= 1024 for s in streams)
    rec = load_recording(tmp_path / "h.xdf")
    assert format_summary(inspect_file(tmp_path / "h.xdf"))
    assert {s.participant for s in rec.series} == {"p00"}  # no hostile name becomes a participant


def test_readers_and_inspect_are_total_over_damaged_files(tmp_path, caplog):
    base = _sample_file(tmp_path / "base.xdf").read_bytes()
    csv = "time,p01/respiration,p01/ecg,p02/eda\n" + "\n".join(
        f"{k / 50:.2f},{np.sin(k / 50):.3f},,{5 + np.cos(k / 50):.3f}" for k in range(500))
    rng = random.Random(15)
    outcomes = {"read": 0, "refused": 0}
    for k in range(160):
        data = bytearray(base if k % 2 else csv.encode())
        i = rng.randrange(len(data))
        if k % 4 < 2:
            del data[i:i + rng.randint(1, 300)]
        else:
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        path = tmp_path / f"c{k}.{'xdf' if k % 2 else 'csv'}"
        path.write_bytes(bytes(data))
        with caplog.at_level(logging.WARNING):
            try:
                format_summary(inspect_file(path))
                outcomes["read"] += 1
            except SourceError as exc:
                assert "\n" not in str(exc)  # one line
                outcomes["refused"] += 1
    assert outcomes["read"] + outcomes["refused"] == 160 and outcomes["read"] > 0
    assert "Traceback" not in caplog.text and "File \"" not in caplog.text
    assert any("damaged" in r.getMessage() for r in caplog.records)  # said, in one line each


def test_inspect_on_the_command_line_prints_one_line_for_a_damaged_file(tmp_path):
    base = _sample_file(tmp_path / "base.xdf").read_bytes()
    bad = tmp_path / "bad.xdf"
    bad.write_bytes(base[:200] + b"\xff" * 64 + base[264:])
    run = subprocess.run([sys.executable, str(ROOT / "run_symphony.py"), "inspect", str(bad)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "Traceback" not in run.stderr and "pyxdf" not in run.stderr
    assert len([line for line in run.stderr.splitlines() if line.strip()]) <= 1


def test_an_empty_column_and_absurd_times_do_not_break_inspect(tmp_path):
    (tmp_path / "e.csv").write_text("time,p01/eda,p01/heart_rate\n0,,60\n1,,61\n2,,62\n")
    s = inspect_file(tmp_path / "e.csv")  # on main: IndexError
    assert s["participants"]["p01"]["channels"]["eda"]["samples"] == 0
    (tmp_path / "t.csv").write_text("time,p01/eda\n0,1\n1e300,2\n-1e300,3\n")
    assert "p01" in format_summary(inspect_file(tmp_path / "t.csv"))


def test_a_short_recording_says_why_the_breathing_rate_is_missing(tmp_path):
    rows = "\n".join(f"{k / 50:.2f},{np.sin(k / 50 * 2 * np.pi / 4):.4f}" for k in range(400))
    (tmp_path / "short.csv").write_text("time,p01/respiration\n" + rows)
    s = inspect_file(tmp_path / "short.csv")
    p = s["participants"]["p01"]
    assert p["breathing_rate"] is None and "covers 8.0 s" in p["breathing_rate_missing"]
    assert "no breathing rate: respiration covers 8.0 s" in format_summary(s)


def test_record_and_inspect_count_the_same_events(tmp_path):
    out = tmp_path / "r.xdf"
    stats = record_session("synthetic:participants=2,seed=1,glitch=0.3", out, seconds=1.5, progress=False)
    assert stats.events == inspect_file(out)["markers"]  # on main: inspect counts 2 more (start, stop)


@pytest.mark.parametrize("name", ["p01", "\u202e"])
def test_the_recorder_writes_only_loadable_files(tmp_path, name):
    from engine.data import Chunk

    rec = Recorder(tmp_path / "x.xdf", "osc://user:pw@127.0.0.1:1")
    rec.write([Chunk(name, "eda", np.array([0.0, 0.1]), np.array([1.0, 2.0], np.float32), alcove="\x07")], [])
    rec.close()
    streams, header = pyxdf.load_xdf(str(tmp_path / "x.xdf"))
    assert "pw" not in str(header) and len(streams) == 2
