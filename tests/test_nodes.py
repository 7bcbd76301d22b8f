"""Frame-locked render nodes, headless, as separate processes through a real Mosquitto from
the generated network configs (Alcove a1's broker, its account, under owl/a1/nodes).

A lead and two followers rendering the two halves of a 2×1 canvas: joined, their frames equal
one full render within 2 levels at 99.9 % of pixels, for 60 frames. A follower killed mid-run
is dropped and reported; the other goes on to the end.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.network.up import Network
from tests.conftest import ROOT
from tests.network_util import make_network

SCENE, SOURCE = "wellness_network", "synthetic:participants=8,alcoves=2"
CANVAS = (320, 90)


@pytest.fixture
def lead_url():
    folder = make_network()
    with Network(folder) as _net:
        yield (folder / "a1" / "publish.url").read_text().strip().replace("/features", "/nodes")
    shutil.rmtree(folder.parent, ignore_errors=True)


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "run_symphony.py"), *args], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)


def _follower(url: str, name: str, region: str, out: Path) -> subprocess.Popen:
    out.mkdir()
    return _cli("render", SCENE, "--source", SOURCE, "--follow", url, "--node", name, "--canvas",
                f"{CANVAS[0]},{CANVAS[1]}", "--region", region, "-o", str(out / "%05d.png"))


def _lead(url: str, seconds: float, timeout: float = 2.0) -> subprocess.Popen:
    return _cli("render", SCENE, "--source", SOURCE, "--lead", url, "--followers", "2",
                "--seconds", str(seconds), "--size", f"{CANVAS[0]}x{CANVAS[1]}", "--node-timeout",
                str(timeout))


def _png(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as c:
        return next(c.decode(video=0)).to_ndarray(format="rgba")


def test_two_followers_halves_equal_one_full_render(lead_url, tmp_path):
    from engine.offline import render_array

    left = _follower(lead_url, "left", "0,0,160,90", tmp_path / "left")
    right = _follower(lead_url, "right", "160,0,160,90", tmp_path / "right")
    lead = _lead(lead_url, 2.0)
    _, lead_err = lead.communicate(timeout=300)
    assert lead.returncode == 0, lead_err
    for f in (left, right):
        _, err = f.communicate(timeout=60)
        assert f.returncode == 0, err
        assert "drew 60 frames" in err
    assert "followers left, right" in lead_err and "dropped" not in lead_err
    full = render_array(SCENE, 60, CANVAS, 30.0, SOURCE, 0)
    lit = (full[..., :3].max(axis=-1) > 20).mean(axis=(1, 2))
    assert lit.min() > 0.004  # every frame a real picture (strands on black), not an empty one
    worst = 0.0
    for i in range(60):
        joined = np.concatenate([_png(tmp_path / "left" / f"{i:05d}.png"),
                                 _png(tmp_path / "right" / f"{i:05d}.png")], axis=1)
        diff = np.abs(joined[..., :3].astype(np.int16) - full[i, ..., :3].astype(np.int16)).max(axis=2)
        worst = max(worst, float((diff > 2).mean()))
    assert worst <= 0.001, f"{worst:.4%} of pixels differ by more than 2 levels"


def test_killed_follower_is_dropped_and_reported(lead_url, tmp_path):
    left = _follower(lead_url, "left", "0,0,160,90", tmp_path / "left")
    right = _follower(lead_url, "right", "160,0,160,90", tmp_path / "right")
    lead = _lead(lead_url, 1.5, timeout=1.5)
    try:
        first = lead.stderr.readline()  # the lead starts its frames once both followers joined
        assert "followers left, right joined" in first, first
        time.sleep(1.0)  # some frames in (a run takes about 4 s here)
        right.kill()
        _, lead_err = lead.communicate(timeout=300)
    finally:
        for p in (left, right, lead):
            if p.poll() is None:
                time.sleep(1)
                p.kill()
    assert lead.returncode == 0, lead_err
    assert "follower right dropped" in lead_err
    _, left_err = left.communicate(timeout=60)
    assert left.returncode == 0 and "drew 45 frames" in left_err, left_err
    match = re.search(r"follower right dropped at frame (\d+)", lead_err)
    assert match and 0 < int(match.group(1)) < 44, lead_err


def test_live_lead_and_follower_windows(lead_url, x_display, tmp_path):
    """`show --lead` and `show --follow --output NAME` in real windows (Xvfb)."""
    env = {**os.environ, "DISPLAY": x_display}
    run = [sys.executable, str(ROOT / "run_symphony.py"), "show", SCENE, "--source", SOURCE, "--no-vsync"]
    follower = subprocess.Popen([*run, "--follow", lead_url, "--output", "right", "--canvas", "320,90",
                                 "--region", "160,0,160,90"], cwd=ROOT, env=env, stderr=subprocess.PIPE,
                                text=True)
    lead = subprocess.Popen([*run, "--lead", lead_url, "--followers", "1", "--size", "160x90",
                             "--frames", "20", "--screenshot", str(tmp_path / "lead.png")], cwd=ROOT,
                            env=env, stderr=subprocess.PIPE, text=True)
    _, lead_err = lead.communicate(timeout=300)
    _, follow_err = follower.communicate(timeout=60)
    assert lead.returncode == 0, lead_err
    assert "followers right joined" in lead_err and "dropped" not in lead_err
    assert follower.returncode == 0 and "node right: drew 20 frames" in follow_err, follow_err
    assert (tmp_path / "lead.png").stat().st_size > 0


def test_follower_region_from_a_venue_file(tmp_path):
    from engine.cli import CliError, build_parser
    from engine.network.cli import _node_geometry

    venue = tmp_path / "wall.toml"
    venue.write_text('[show]\ncanvas = [256, 128]\n[[output]]\nname = "left"\nsize = [128, 128]\n'
                     'region = [0, 0, 128, 128]\n[[output]]\nname = "right"\nmonitor = 1\nsize = [128, 128]\n'
                     'region = [128, 0, 128, 128]\n')
    args = build_parser().parse_args(["show", SCENE, "--follow", "mqtt://127.0.0.1:1/x",
                                      "--venue", str(venue), "--output", "right"])
    assert _node_geometry(args) == ((256, 128), (128, 0, 128, 128))
    args.node = "middle"
    with pytest.raises(CliError, match="no output 'middle'"):
        _node_geometry(args)


def test_follower_re_runs_frames_from_the_network_hub(tmp_path):
    """With the hub's read URL as the lead's source, followers get the same Alcoves per frame."""
    folder = make_network()
    relay = None
    try:
        with Network(folder) as _net:
            relay = _cli("relay", "--source", "synthetic:participants=4,seed=2", "--publish",
                         f"@{folder / 'a1' / 'publish.url'}", "--seconds", "60")
            url = (folder / "a2" / "publish.url").read_text().strip().replace("/features", "/nodes")
            (tmp_path / "follow").mkdir()
            (tmp_path / "lead").mkdir()
            follower = _cli("render", SCENE, "--follow", url, "--node", "whole", "--size", "160x90",
                            "-o", str(tmp_path / "follow" / "%05d.png"))
            time.sleep(3)  # features flowing to the hub
            lead = _cli("render", SCENE, "--source", f"@{folder / 'hub' / 'read.url'}", "--lead", url,
                        "--followers", "1", "--seconds", "1", "--size", "160x90",
                        "-o", str(tmp_path / "lead" / "%05d.png"))
            _, lead_err = lead.communicate(timeout=300)
            _, follow_err = follower.communicate(timeout=60)
            relay.terminate()
            relay.wait(timeout=30)
    finally:
        if relay is not None and relay.poll() is None:
            relay.kill()
        shutil.rmtree(folder.parent, ignore_errors=True)
    assert lead.returncode == 0, lead_err
    assert follower.returncode == 0 and "drew 30 frames" in follow_err, follow_err
    for i in range(30):
        a, b = _png(tmp_path / "lead" / f"{i:05d}.png"), _png(tmp_path / "follow" / f"{i:05d}.png")
        assert np.array_equal(a, b), f"frame {i} differs"
    assert (a[..., :3].max(axis=-1) > 20).mean() > 0.002, "the Alcove's strands are drawn"
