"""Recording to XDF (exact read-back, SIGKILL safety), replay, CSV/EDF readers, inspect."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import pyxdf
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import FixedClock
from engine.data import Chunk, Event
from engine.recording.readers import load_recording, parse_csv
from engine.recording.recorder import Recorder
from engine.recording.xdf import XdfWriter
from engine.sources import SourceError, open_source
from engine.sources.synthetic import SyntheticAlcove
from tests.conftest import ROOT, run_cli


def load(path: Path) -> dict[str, dict]:
    streams, header = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    return {s["info"]["name"][0]: s for s in streams}


def series(chunks: list[Chunk]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out: dict[str, list] = {}
    for c in chunks:
        out.setdefault(f"{c.participant}/{c.channel}", []).append(c)
    return {k: (np.concatenate([c.t for c in v]), np.concatenate([c.v for c in v])) for k, v in out.items()}


def test_recorder_round_trips_exactly_through_pyxdf(tmp_path):
    src = SyntheticAlcove(participants=2, seed=4)
    rec = Recorder(tmp_path / "s.xdf", "synthetic")
    sent_chunks, sent_events = [], []
    for i in range(1, 8 * 30):
        chunks, events = src.poll(i / 30)
        rec.write(chunks, events)
        sent_chunks += chunks
        sent_events += events
    rec.mark(8.0, "stop")
    rec.close()
    streams = load(tmp_path / "s.xdf")
    sent = series(sent_chunks)
    assert set(streams) == set(sent) | {"markers"}
    for name, (t, v) in sent.items():
        s = streams[name]
        np.testing.assert_array_equal(s["time_stamps"], t)
        np.testing.assert_array_equal(s["time_series"][:, 0], v)  # float32, bit for bit
        ch = s["info"]["desc"][0]["channels"][0]["channel"][0]
        assert ch["unit"][0] == {"heart_rate": "bpm", "respiration": "a.u.", "eda": "µS"}.get(
            name.split("/")[1], ch["unit"][0])
    marks = [json.loads(x[0]) for x in streams["markers"]["time_series"]]
    assert [m["kind"] for m in marks[:2]] == ["join", "join"]
    assert sum(m["kind"] == "beat" for m in marks) == sum(e.kind == "beat" for e in sent_events)
    assert marks[-1] == {"kind": "operator", "action": "stop"}


def test_a_recorder_killed_with_sigkill_leaves_a_readable_file(tmp_path):
    out = tmp_path / "killed.xdf"
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_symphony.py"), "record", "--source",
                             "synthetic:participants=3,seed=8", "-o", str(out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while (not out.exists() or out.stat().st_size < 20_000) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.2)  # at least one more flush
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    streams = load(out)  # no footers, killed mid-run: still loads
    resp = streams["p00/respiration"]
    t, v = resp["time_stamps"], resp["time_series"][:, 0]
    assert t.size > 25 and t[-1] > 1.0
    # what was flushed is exactly what the seeded generator produced for those times
    want = series(SyntheticAlcove(participants=3, seed=8).poll(float(t[-1]))[0])["p00/respiration"]
    np.testing.assert_array_equal(t, want[0])
    np.testing.assert_array_equal(v, want[1])


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _udp_bound(port: int) -> bool:
    return any(int(line.split()[1].split(":")[1], 16) == port
               for line in Path("/proc/net/udp").read_text().splitlines()[1:])


def test_record_from_osc_for_ten_seconds_then_inspect(tmp_path):
    from pythonosc.osc_bundle_builder import OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    port = _free_udp_port()
    out = tmp_path / "osc.xdf"
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_symphony.py"), "record", "--source",
                             f"osc://127.0.0.1:{port}", "-o", str(out), "--seconds", "10"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not _udp_bound(port):
        assert time.monotonic() < deadline and proc.poll() is None, "recorder did not start"
        time.sleep(0.05)
    rng = np.random.default_rng(3)
    rates = {"ecg": 256, "respiration": 32, "eda": 4}
    sent: dict[str, list] = {}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0 = time.time()
    for k in range(28):  # 7 s in 0.25 s bundles
        for pid in ("p01", "p02"):
            b = OscBundleBuilder(t0 + 0.25 * k)
            for ch, rate in rates.items():
                n = int(rate * 0.25) or 1
                tt = t0 + 0.25 * k + np.arange(n) / rate
                if ch == "ecg":
                    phase = (tt * 75 / 60) % 1.0
                    vals = 1.2 * np.exp(-((phase - 0.2) ** 2) / 2e-4) + 0.01 * rng.standard_normal(n)
                else:
                    vals = rng.uniform(0.5, 5.0, n)
                vals = vals.astype(np.float32)
                m = OscMessageBuilder(f"/alcove/a3/p/{pid}/{ch}")
                m.add_arg(rate, "i")
                for x in vals.tolist():
                    m.add_arg(x, "f")
                b.add_content(m.build())
                sent.setdefault(f"{pid}/{ch}", []).append((tt, vals))
            sock.sendto(b.build().dgram, ("127.0.0.1", port))
        time.sleep(max(0.0, t0 + 0.25 * (k + 1) - time.time()))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    streams = load(out)
    for name, parts in sent.items():
        t = np.concatenate([p[0] for p in parts])
        v = np.concatenate([p[1] for p in parts])
        s = streams[name]
        np.testing.assert_array_equal(s["time_series"][:, 0], v)  # identical values
        offset = float(s["info"]["desc"][0]["source_offset"][0])
        np.testing.assert_allclose(s["time_stamps"] + offset, t, atol=1e-6)
    result = run_cli("inspect", str(out), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary["participants"]) == {"p01", "p02"}
    for p in summary["participants"].values():
        assert {k: c["unit"] for k, c in p["channels"].items()} == {"ecg": "mV", "respiration": "a.u.",
                                                                      "eda": "µS"}
        assert p["channels"]["ecg"]["samples"] == 28 * 64
        assert abs(p["channels"]["ecg"]["rate"] - 256) < 0.5 and abs(p["heart_rate"] - 75.0) < 2.0
    text = run_cli("inspect", str(out))
    assert "p01" in text.stdout and "ecg" in text.stdout and "mV" in text.stdout


def test_replay_follows_the_fixed_step_and_reproduces_the_source(tmp_path):
    src = SyntheticAlcove(participants=2, seed=1)
    rec = Recorder(tmp_path / "r.xdf")
    original = []
    for i in range(1, 10 * 30 + 1):
        chunks, events = src.poll(i / 30)
        rec.write(chunks, events)
        original += chunks
    rec.close()
    for fps in (30.0, 7.0):
        replay, clock, got = open_source(f"replay:{tmp_path / 'r.xdf'}"), FixedClock(fps), []
        events: list[Event] = []
        for _ in range(int(10 * fps) + 1):
            c, e = replay.poll(clock.tick().t)
            got += c
            events += e
        a, b = series(original), series(got)
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key][0], b[key][0])
            np.testing.assert_array_equal(a[key][1], b[key][1])
        assert sum(e.kind == "beat" for e in events) > 20
    looped = open_source(f"replay:{tmp_path / 'r.xdf'}?loop=1")
    n = sum(c.v.size for c in looped.poll(25.0)[0])
    assert n > 2 * sum(c.v.size for c in original)


def test_csv_and_edf_readers(tmp_path):
    csv_path = tmp_path / "session.csv"
    csv_path.write_text("time,p01/heart_rate,p02/eda,p01/mood\n0.0,60,3.5,1\n0.5,,3.6,2\n1.0,62,,3\n")
    rec = load_recording(csv_path)
    got = {(s.participant, s.channel): (s.t.tolist(), s.v.tolist()) for s in rec.series}
    assert got[("p01", "heart_rate")] == ([0.0, 1.0], [60.0, 62.0]) and set(got) == {("p01", "heart_rate"),
                                                                                        ("p02", "eda")}
    assert got[("p02", "eda")][0] == [0.0, 0.5] and np.allclose(got[("p02", "eda")][1], [3.5, 3.6])
    assert rec.skipped == ["p01/mood"]
    assert open_source(str(csv_path)).recording.format == "csv"  # a bare path works as a source

    import pyedflib

    edf = tmp_path / "lab.edf"
    fs = 256
    t = np.arange(fs * 10) / fs
    ecg_uv = 1000.0 * np.sin(2 * np.pi * 1.2 * t)
    headers = [
        {"label": "p03/ECG", "dimension": "uV", "sample_frequency": fs, "physical_min": -2000.0,
         "physical_max": 2000.0, "digital_min": -32768, "digital_max": 32767},
        {"label": "Resp", "dimension": "a.u.", "sample_frequency": 32, "physical_min": -5.0,
         "physical_max": 5.0, "digital_min": -32768, "digital_max": 32767},
    ]
    pyedflib.highlevel.write_edf(str(edf), [ecg_uv, np.sin(np.arange(320) / 10.0)], headers)
    rec = load_recording(edf, participant="p04")
    by = {(s.participant, s.channel): s for s in rec.series}
    assert set(by) == {("p03", "ecg"), ("p04", "respiration")}
    assert by[("p03", "ecg")].unit == "mV"
    np.testing.assert_allclose(by[("p03", "ecg")].v, ecg_uv / 1000.0, atol=1e-3)  # µV → mV
    assert by[("p04", "respiration")].t[1] == pytest.approx(1 / 32)


def test_multichannel_xdf_like_labrecorder_maps_by_channel_label(tmp_path):
    path = tmp_path / "lab.xdf"
    w = XdfWriter(path)
    desc = {"channels": {"channel": [{"label": "ECG", "unit": "uV"}, {"label": "GSR", "unit": "uS"},
                                     {"label": "AUX1", "unit": ""}]}}
    sid = w.add_stream("p07", "Physio", "float32", channels=3, nominal_srate=100.0, desc=desc)
    t = 5000.0 + np.arange(300) / 100.0  # an LSL clock, far from zero
    data = np.stack([np.full(300, 500.0), np.full(300, 2.5), np.zeros(300)], 1).astype(np.float32)
    w.samples(sid, t, data)
    w.close()
    rec = load_recording(path)
    by = {(s.participant, s.channel): s for s in rec.series}
    assert set(by) == {("p07", "ecg"), ("p07", "eda")} and rec.skipped == ["p07[AUX1]"]
    assert by[("p07", "ecg")].v[0] == pytest.approx(0.5)
    replay = open_source(f"replay:{path}")
    chunks, _ = replay.poll(1.0)
    assert min(c.t[0] for c in chunks) == 0.0  # shifted to start at 0


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=200))
def test_csv_parser_fails_only_with_a_clear_error(text):
    try:
        rec = parse_csv("time,p01/eda\n" + text)
    except SourceError as exc:
        assert "\n" not in str(exc)
        return
    for s in rec.series:
        assert np.all(np.isfinite(s.v)) and np.all(np.diff(s.t) >= 0)


def test_cli_errors_are_one_line(tmp_path, capsys):
    from engine.cli import main

    for args in (("inspect", str(tmp_path / "missing.xdf")), ("inspect", str(ROOT / "README.md")),
                 ("record", "--source", "synthetic", "-o", str(tmp_path / "no" / "x.xdf"), "--seconds", "1"),
                 ("record", "--source", "telepathy", "-o", str(tmp_path / "x.xdf"), "--seconds", "1")):
        assert main(list(args)) != 0
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("symphony: error: "), lines
    assert not (tmp_path / "x.xdf").exists()  # a source that cannot start leaves no file behind


@pytest.mark.window
def test_show_records_what_it_shows(tmp_path, x_display):
    out = tmp_path / "show.xdf"
    result = run_cli("show", "symphony", "--frames", "45", "--size", "160x90", "--record", str(out),
                     "--source", "synthetic:participants=3", env={"DISPLAY": x_display})
    assert result.returncode == 0, result.stderr
    streams = load(out)
    assert "p02/respiration" in streams and streams["p02/respiration"]["time_stamps"].size > 5
    marks = [json.loads(x[0]) for x in streams["markers"]["time_series"]]
    assert marks[0]["kind"] == "operator" and marks[-1] == {"kind": "operator", "action": "show stop"}
