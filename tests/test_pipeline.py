"""The offline frame pipeline: encoder settings that keep a --gop render the same stream on
any machine, and the GL pass that hands the encoder yuv420p planes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

from tests.conftest import ROOT

RENDER = """
import os, sys
os.sched_setaffinity(0, {cpus})
from engine.offline import render_video
render_video("chorus_alcove", sys.argv[1], seconds=12 / 30, fps=30.0, size=(320, 192), seed=1,
             progress=False, gop=6)
"""


def _packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(c.streams.video[0]) if p.dts is not None]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to compare with one")
def test_h264_with_a_gop_is_the_same_stream_on_one_cpu_as_on_two(tmp_path):
    """A cluster's machines differ in cores, and x264 by default picks its threads (and so its
    decisions) by the cores it sees: a --gop render must not depend on them."""
    two = sorted(os.sched_getaffinity(0))[:2]
    outs = []
    for cpus in ({two[0]}, set(two)):
        out = tmp_path / f"cpus{len(cpus)}.mp4"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", RENDER.format(cpus=cpus), str(out)], check=True, env=env,
                       cwd=ROOT, timeout=600)
        outs.append(_packets(out))
    assert len(outs[0]) == 12
    assert outs[0] == outs[1]
