"""The offline frame pipeline: encoder settings that keep a --gop render the same stream on
any machine, and the GL pass that hands the encoder yuv420p planes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from engine.offline import render_array, render_video
from engine.outputs.yuv import Yuv420p
from tests.conftest import ROOT

RENDER = """
import os, sys
os.sched_setaffinity(0, {cpus})
from engine.offline import render_video
render_video("chorus_alcove", sys.argv[1], seconds=12 / 30, fps=30.0, size=(320, 192), seed=1,
             progress=False, gop=6, codec=sys.argv[2])
"""


def _packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(c.streams.video[0]) if p.dts is not None]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to compare with one")
@pytest.mark.parametrize("codec", ["h264", "hevc"])
def test_a_gop_render_is_the_same_stream_on_one_cpu_as_on_two(tmp_path, codec):
    """A cluster's machines differ in cores, and x264 by default picks its threads (and so its
    decisions) by the cores it sees: a --gop render must not depend on them."""
    two = sorted(os.sched_getaffinity(0))[:2]
    outs = []
    for cpus in ({two[0]}, set(two)):
        out = tmp_path / f"cpus{len(cpus)}.mp4"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", RENDER.format(cpus=cpus), str(out), codec], check=True, env=env,
                       cwd=ROOT, timeout=600)
        outs.append(_packets(out))
    assert len(outs[0]) == 12
    assert outs[0] == outs[1]


def _swscale(rgba: np.ndarray) -> np.ndarray:
    """PyAV's own conversion (libswscale), as the encoder did it for RGBA frames."""
    return av.VideoFrame.from_ndarray(rgba, format="rgba").reformat(format="yuv420p").to_ndarray()


@pytest.mark.parametrize("size", [(64, 48), (66, 50), (320, 180)])
def test_yuv420p_planes_match_libswscale_within_one_level(size):
    """The encoder's own conversion replaces libswscale's: noise (the worst case for a chroma
    filter), hard edges and a rendered frame come out within one level of it."""
    w, h = size
    rng = np.random.default_rng(w)
    noise = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    edges = np.zeros((h, w, 4), np.uint8)
    edges[h // 3: h // 2, w // 4:] = (255, 40, 200, 255)
    edges[:, ::7] = (0, 255, 0, 255)
    rendered = render_array("chorus_alcove", 12, size, 30.0, seed=2)[-1]
    assert rendered[..., :3].std() > 1.0, "the rendered frame shows something"
    yuv = Yuv420p(size)
    for rgba in (noise, edges, rendered):
        ours, theirs = yuv.convert(rgba).astype(int), _swscale(rgba).astype(int)
        assert ours.shape == theirs.shape == (h * 3 // 2, w)
        assert np.abs(ours - theirs).max() <= 1
        assert np.abs(ours - theirs).mean() < 0.2


def test_an_h264_file_decodes_to_the_rendered_frames(tmp_path):
    """The planes reach the encoder in the right order and orientation: decoded (back to RGB
    by libswscale) the file is close to the rendered frames, and far from them flipped."""
    size, frames = (160, 96), 8
    expect = render_array("chorus_alcove", frames, size, 30.0, seed=2)
    render_video("chorus_alcove", tmp_path / "a.mp4", frames / 30.0, 30.0, size, seed=2, progress=False,
                 crf=0, preset="ultrafast")
    with av.open(str(tmp_path / "a.mp4")) as c:
        got = [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]
    assert len(got) == frames
    for a, b in zip(got, expect, strict=True):
        diff = np.abs(a.astype(int) - b[..., :3].astype(int)).mean()
        flipped = np.abs(a.astype(int) - b[::-1, :, :3].astype(int)).mean()
        assert diff < 3.0 and flipped > 2 * diff + 1.0, (diff, flipped)


def test_a_frame_of_the_wrong_size_is_refused_not_written_out_of_bounds():
    yuv = Yuv420p((64, 48))
    with pytest.raises(ValueError, match="expected a"):
        yuv.convert(np.zeros((50, 64, 4), np.uint8))
    flipped = np.zeros((48, 64, 4), np.uint8)[::-1]  # not contiguous: converted all the same
    assert yuv.convert(flipped)[0, 0] == 16
