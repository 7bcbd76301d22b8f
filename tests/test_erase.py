"""`symphony erase`: a participant who withdraws consent disappears from a recording, and
nobody else's data changes by a bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import pyxdf

from engine.recording.erase import EraseError, erase_participant
from engine.recording.inspect import inspect_file
from engine.recording.recorder import Recorder
from engine.recording.xdf import XdfWriter
from engine.sources.synthetic import SyntheticAlcove
from tests.conftest import run_cli


def _record(path: Path, seconds: float = 6.0, participants: int = 3) -> None:
    src = SyntheticAlcove(participants=participants, seed=5)
    rec = Recorder(path, "synthetic")
    for i in range(1, int(seconds * 30)):
        rec.write(*src.poll(i / 30))
    rec.mark(seconds, "stop")
    rec.close()


def _streams(path: Path) -> dict[str, dict]:
    streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    return {s["info"]["name"][0]: s for s in streams}


def _victim(streams: dict[str, dict]) -> str:
    return sorted(n.split("/")[0] for n in streams if "/" in n)[0]


def test_erased_participant_is_gone_and_others_are_bit_identical(tmp_path):
    src, dst = tmp_path / "s.xdf", tmp_path / "clean.xdf"
    _record(src)
    before = _streams(src)
    pid = _victim(before)
    marker_hits = sum(pid in str(m) for m in before["markers"]["time_series"])
    assert marker_hits > 0, "the recording should hold markers of the participant to erase"

    report = erase_participant(src, dst, pid)

    after = _streams(dst)
    assert not [n for n in after if n.startswith(pid + "/")]
    assert all(pid not in str(m) for m in after["markers"]["time_series"])
    assert pid.encode() not in dst.read_bytes(), "no byte of the file names the participant"
    assert report.markers_removed == marker_hits
    assert sorted(report.streams_removed) == sorted(n for n in before if n.startswith(pid + "/"))
    for name, s in after.items():
        if name == "markers":
            kept = [m for m in before["markers"]["time_series"] if pid not in str(m)]
            assert [m for m in s["time_series"]] == kept
            continue
        np.testing.assert_array_equal(s["time_stamps"], before[name]["time_stamps"])
        assert s["time_series"].tobytes() == before[name]["time_series"].tobytes()
    assert pid not in inspect_file(dst)["participants"]
    assert set(inspect_file(dst)["participants"]) == set(inspect_file(src)["participants"]) - {pid}


def test_a_mixed_stream_is_refused_not_guessed(tmp_path):
    src = tmp_path / "mixed.xdf"
    w = XdfWriter(src)
    sid = w.add_stream("room", "ECG", channels=2, desc={"channels": {"channel": [
        {"label": "p01/ecg"}, {"label": "p02/ecg"}]}})
    w.samples(sid, np.arange(4.0), np.ones((4, 2), np.float32))
    w.close()
    with pytest.raises(EraseError, match="mixes 'p01'"):
        erase_participant(src, tmp_path / "out.xdf", "p01")
    assert not (tmp_path / "out.xdf").exists()


def test_a_truncated_recording_is_cleaned_up_to_the_damage(tmp_path):
    src, cut, dst = tmp_path / "s.xdf", tmp_path / "cut.xdf", tmp_path / "clean.xdf"
    _record(src, seconds=4.0)
    data = src.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.7)])
    pid = _victim(_streams(src))
    report = erase_participant(cut, dst, pid)
    assert report.damaged_at is not None
    assert not [n for n in _streams(dst) if n.startswith(pid + "/")]
    assert pid.encode() not in dst.read_bytes()


def test_cli_erase_and_its_one_line_errors(tmp_path):
    src, dst = tmp_path / "s.xdf", tmp_path / "clean.xdf"
    _record(src, seconds=3.0)
    pid = _victim(_streams(src))
    res = run_cli("erase", str(src), "--participant", pid, "-o", str(dst))
    assert res.returncode == 0, res.stderr
    assert f"erased {pid}" in res.stderr
    assert pid.encode() not in dst.read_bytes()
    for args in (["--participant", "no such!", "-o", str(tmp_path / "x.xdf")],
                 ["--participant", pid, "-o", str(src)]):
        res = run_cli("erase", str(src), *args)
        assert res.returncode != 0
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("symphony: error:"), res.stderr
    res = run_cli("erase", str(tmp_path / "missing.xdf"), "--participant", pid, "-o", str(dst))
    assert res.returncode != 0 and "Traceback" not in res.stderr


def test_markers_without_json_are_matched_as_whole_words(tmp_path):
    src, dst = tmp_path / "m.xdf", tmp_path / "clean.xdf"
    w = XdfWriter(src)
    sid = w.add_stream("markers", "Markers", "string")
    w.strings(sid, [0.0, 1.0, 2.0, 3.0], ["p1 joined", "p10 joined", json.dumps({"participant": "p1"}),
                                          "lights up"])
    w.close()
    erase_participant(src, dst, "p1")
    assert [m[0] for m in _streams(dst)["markers"]["time_series"]] == ["p10 joined", "lights up"]
