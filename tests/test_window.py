"""The real window path: GLFW + GL under an X server (Xvfb in CI), driven through the CLI."""

from __future__ import annotations

import re

import pytest

from engine.outputs.image import load_png
from tests.conftest import run_cli

pytestmark = pytest.mark.window


def test_show_draws_frames_and_exits_cleanly(x_display, tmp_path):
    shot = tmp_path / "shot.png"
    res = run_cli("show", "symphony", "--frames", "45", "--size", "320x180", "--no-vsync",
                  "--screenshot", str(shot), env={"DISPLAY": x_display})
    assert res.returncode == 0, res.stderr
    img = load_png(shot)
    assert img.shape == (180, 320, 4)
    assert img[..., :3].mean() > 2.0, "the window shows the tapestry"


def test_show_stops_after_seconds(x_display):
    res = run_cli("show", "symphony", "--seconds", "1.5", "--size", "160x90",
                  env={"DISPLAY": x_display})
    assert res.returncode == 0, res.stderr
    # it drew, and stopped by itself (no frame limit; run_cli's timeout would fail the test)
    drawn = re.search(r"drew (\d+) frames", res.stderr)
    assert drawn and int(drawn.group(1)) > 0, res.stderr
    assert "ERROR" not in res.stderr and "Traceback" not in res.stderr


def test_list_sees_the_monitor(x_display):
    res = run_cli("list", env={"DISPLAY": x_display})
    assert res.returncode == 0
    assert "0: " in res.stdout.split("monitors:")[1].split("sources:")[0]


def test_missing_monitor_is_a_clear_error(x_display):
    res = run_cli("show", "symphony", "--monitor", "7", "--frames", "1",
                  env={"DISPLAY": x_display})
    assert res.returncode != 0
    assert "monitor 7 does not exist" in res.stderr
    assert "Traceback" not in res.stderr
