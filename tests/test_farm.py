"""Segmented renders on Dask: checkpoints from a simulate-only pass, segments rendered by
worker processes (a LocalCluster, and a `dask scheduler` with two `dask worker` processes on
loopback), joined without re-encoding, equal to the serial render frame for frame."""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from engine.farm.checkpoints import TRAIL_FLOOR, preroll_start
from engine.offline import render_array, render_video
from tests.conftest import ROOT

pytest.importorskip("distributed")

SIZE = (64, 48)
FPS = 30.0
TRAILS = str(ROOT / "tests" / "scenes" / "trail_pulse.py")


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]


def _packets(path: Path) -> list[tuple[int, int, bytes]]:
    with av.open(str(path)) as c:
        return [(p.pts, p.dts, bytes(p)) for p in c.demux(c.streams.video[0]) if p.dts is not None]


def test_preroll_goes_back_until_the_old_light_is_gone():
    assert preroll_start([0.0] * 50, 30) == 30  # no trails: no pre-roll
    assert preroll_start([0.5] * 50, 30) == 30 - 25  # 0.5^26 = TRAIL_FLOOR
    assert TRAIL_FLOOR >= 0.5 ** 26
    t = [0.5] * 50
    t[25] = 0.0  # frame 26 starts a fresh history: no need to go further back
    assert preroll_start(t, 30) == 26
    assert preroll_start([0.96] * 50, 30) == 0
    assert preroll_start([0.5] * 50, 3) == 0


def test_two_local_workers_give_the_serial_frames_bit_for_bit(tmp_path):
    frames = 70  # segments start inside trail pulses and right after them
    serial = render_array(TRAILS, frames, SIZE, FPS, seed=3)
    out = tmp_path / "w.mkv"
    render_video(TRAILS, out, frames / FPS, FPS, SIZE, seed=3, progress=False, gop=5, workers=2)
    got = _frames(out)
    assert len(got) == frames
    for i, (a, b) in enumerate(zip(got, serial, strict=True)):
        assert np.array_equal(a, b[..., :3]), f"frame {i} differs"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "segments are cleaned up"


def test_h264_with_a_gop_is_the_same_stream_serial_and_on_workers(tmp_path):
    kw = dict(seconds=36 / FPS, fps=FPS, size=SIZE, seed=1, progress=False, gop=6)
    render_video("chorus_alcove", tmp_path / "serial.mp4", **kw)
    render_video("chorus_alcove", tmp_path / "farm.mp4", workers=2, **kw)
    serial, farm = _packets(tmp_path / "serial.mp4"), _packets(tmp_path / "farm.mp4")
    assert len(serial) == 36
    if serial != farm:  # say where, and whether the pictures or only the bitstreams differ
        packets = [i for i, (a, b) in enumerate(zip(serial, farm, strict=True)) if a != b]
        decoded = zip(_frames(tmp_path / "serial.mp4"), _frames(tmp_path / "farm.mp4"), strict=True)
        frames = [i for i, (a, b) in enumerate(decoded) if not np.array_equal(a, b)]
        pytest.fail(f"packets {packets} differ; decoded frames {frames} differ")
    with av.open(str(tmp_path / "farm.mp4")) as c:
        keys = [i for i, p in enumerate(c.demux(c.streams.video[0])) if p.is_keyframe and p.size]
    assert keys == list(range(0, 36, 6))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "dask scheduler exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError("dask scheduler did not listen")


def test_a_running_cluster_renders_the_same_frames_and_survives_a_dead_worker(tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1", "LP_NUM_THREADS": "1"}
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _wait_port(port, procs[0])
        address = f"tcp://127.0.0.1:{port}"
        for _ in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                 "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"],
                env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        frames = 60
        out = tmp_path / "c.mkv"
        folder = tmp_path / ".c.mkv.segments"

        def kill_one_worker_once_work_lands() -> None:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not (folder.is_dir() and any(folder.iterdir())):
                time.sleep(0.05)
            procs[1].send_signal(signal.SIGKILL)

        killer = threading.Thread(target=kill_one_worker_once_work_lands, daemon=True)
        killer.start()
        render_video("chorus_alcove", out, frames / FPS, FPS, SIZE, seed=2, progress=False, gop=5,
                     scheduler=address)
        killer.join(timeout=5)
        assert procs[1].poll() is not None, "one worker was killed mid-render"
        serial = render_array("chorus_alcove", frames, SIZE, FPS, seed=2)
        got = _frames(out)
        assert len(got) == frames
        assert all(np.array_equal(a, b[..., :3]) for a, b in zip(got, serial, strict=True))
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=10)


def test_a_cut_equals_the_same_frames_of_the_whole_render(tmp_path):
    whole = render_array(TRAILS, 48, SIZE, FPS, seed=4)
    out = tmp_path / "cut.mkv"
    render_video(TRAILS, out, 16 / FPS, FPS, SIZE, seed=4, progress=False, start=30 / FPS)
    got = _frames(out)
    assert len(got) == 16
    assert all(np.array_equal(a, b[..., :3]) for a, b in zip(got, whole[30:46], strict=True))


def test_a_replay_renders_to_the_end_of_its_recording(tmp_path):
    from engine.recording.recorder import Recorder
    from engine.sources.synthetic import SyntheticAlcove

    rec = Recorder(tmp_path / "s.xdf", "synthetic")
    src = SyntheticAlcove(participants=2, seed=1)
    for i in range(1, 46):  # 1.5 s of data
        rec.write(*src.poll(i / 30))
    rec.close()
    out = tmp_path / "r.mkv"
    render_video("chorus_alcove", out, None, FPS, SIZE, source=f"replay:{tmp_path / 's.xdf'}",
                 progress=False)
    from engine.sources import open_source

    with open_source(f"replay:{tmp_path / 's.xdf'}") as replay:
        last_sample = replay.duration
    assert 1.4 < last_sample <= 1.5
    assert len(_frames(out)) == math.ceil(last_sample * FPS) + 1  # the last frame sees the last sample
