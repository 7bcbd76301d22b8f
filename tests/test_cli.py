"""The command line as a user runs it: render to MP4, list, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tests.conftest import run_cli


def decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("render")
    outs = []
    for name, seed in (("a.mp4", "3"), ("b.mp4", "3"), ("c.mp4", "4")):
        out = d / name
        res = run_cli("render", "symphony", "-o", str(out), "--seconds", "1.5", "--fps", "8",
                      "--size", "192x108", "--seed", seed)
        assert res.returncode == 0, res.stderr
        outs.append(out)
    return tuple(outs)


def test_render_writes_the_requested_video(rendered):
    frames = decode(rendered[0])
    assert frames.shape == (12, 108, 192, 3)
    assert frames.mean() > 2.0
    assert not list(rendered[0].parent.glob(".*partial*")), "no partial file left behind"


def test_same_seed_gives_identical_decoded_frames(rendered):
    a, b, c = (decode(p) for p in rendered)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_render_reports_progress_and_summary(tmp_path):
    res = run_cli("render", "symphony", "-o", str(tmp_path / "p.mp4"), "--seconds", "0.5",
                  "--fps", "10", "--size", "64x36")
    assert res.returncode == 0
    assert "5/5 frames" in res.stderr and "ETA" in res.stderr
    assert "wrote" in res.stderr


@pytest.mark.parametrize("args, message", [
    (["render", "no_such_scene", "-o", "x.mp4"], "unknown scene 'no_such_scene'"),
    (["render", "symphony", "-o", "/no/such/dir/x.mp4"], "does not exist"),
    (["render", "symphony", "-o", "x.mp4", "--size", "big"], "size must look like"),
    (["render", "symphony", "-o", "x.mp4", "--size", "161x90"], "must be even"),
    (["render", "symphony", "-o", "x.mp4", "--source", "ouija"], "unknown source kind"),
    (["render", "symphony", "-o", "x.mp4", "--seconds", "-1"], "positive number"),
    (["render", "scenes/missing.py", "-o", "x.mp4"], "scene file not found"),
])
def test_errors_are_one_clear_line(args, message):
    res = run_cli(*args)
    assert res.returncode != 0
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_broken_scene_file_is_reported_without_traceback(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from engine import Scene\nclass Bad(Scene):\n    def setup(self):\n        1/0\n")
    res = run_cli("render", str(bad), "-o", str(tmp_path / "bad.mp4"), "--seconds", "0.2")
    assert res.returncode != 0
    assert "ZeroDivisionError" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "bad.mp4").exists()


def test_list_shows_scenes_and_sources():
    res = run_cli("list")
    assert res.returncode == 0
    assert "symphony" in res.stdout and "synthetic" in res.stdout and "monitors:" in res.stdout
