"""Output formats by suffix: each decodes (PyAV) with the right frame count, size, pixel
format and alpha where promised; lossless ones give back exactly the rendered frames."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from engine.offline import render_array, render_video
from engine.outputs.formats import FormatError, choose_format
from engine.outputs.video import VideoError
from tests.conftest import run_cli

SIZE = (96, 64)
FPS = 30.0
FRAMES = 9
SCENE = "tapestry"


@pytest.fixture(scope="module")
def rendered() -> np.ndarray:
    return render_array(SCENE, FRAMES, SIZE, FPS, seed=2)


def _render(out: Path, **kw) -> Path:
    render_video(SCENE, out, FRAMES / FPS, FPS, SIZE, seed=2, progress=False, **kw)
    return out


def _decode(path: Path, fmt: str = "rgba") -> tuple[list[np.ndarray], av.VideoStream]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = [f.to_ndarray(format=fmt) for f in c.decode(s)]
        return frames, s


@pytest.mark.parametrize("suffix, codec, pix_fmt", [(".mp4", None, "yuv420p"), (".mp4", "hevc", "yuv420p"),
                                                     (".mov", None, "yuva444p"), (".mkv", None, "bgr0")])
def test_each_format_decodes_with_count_size_and_pixels(tmp_path, suffix, codec, pix_fmt):
    out = _render(tmp_path / f"v{suffix}", codec=codec)
    frames, stream = _decode(out)
    assert len(frames) == FRAMES
    assert (stream.width, stream.height) == SIZE
    assert stream.codec_context.pix_fmt.startswith(pix_fmt)  # ProRes 4444 decodes as 12-bit
    assert not list(tmp_path.glob(".*partial*")), "no partial file is left behind"


def test_ffv1_is_bit_exact(tmp_path, rendered):
    frames, _ = _decode(_render(tmp_path / "v.mkv"), "rgb24")
    for got, want in zip(frames, rendered, strict=True):
        np.testing.assert_array_equal(got, want[..., :3])


def test_png_frames_are_bit_exact_and_numbered(tmp_path, rendered):
    (tmp_path / "frames").mkdir()
    _render(tmp_path / "frames" / "%05d.png")
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert names == [f"{i:05d}.png" for i in range(FRAMES)]
    for i, want in enumerate(rendered):
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "frames" / f"{i:05d}.png")), want)


def test_prores_alpha_makes_black_transparent_and_adds_light_back(tmp_path, rendered):
    frames, _ = _decode(_render(tmp_path / "v.mov"))
    last, want = frames[-1].astype(np.float32), rendered[-1].astype(np.float32)
    black = want[..., :3].max(axis=2) == 0
    assert black.any() and (~black).any()
    assert np.all(last[black][:, 3] <= 1), "black pixels are transparent"
    # composited over black with straight alpha, the light comes back as rendered (10-bit 4:4:4)
    over_black = last[..., :3] * last[..., 3:4] / 255.0
    assert np.abs(over_black - want[..., :3]).mean() < 1.0
    assert np.percentile(np.abs(over_black - want[..., :3]), 99.9) <= 6


def test_gop_puts_keyframes_exactly_there(tmp_path):
    out = _render(tmp_path / "v.mp4", gop=4)
    with av.open(str(out)) as c:
        keys = [i for i, p in enumerate(c.demux(c.streams.video[0])) if p.is_keyframe and p.size]
    assert keys == [0, 4, 8]


def test_bad_suffix_and_codec_are_one_line_errors(tmp_path):
    with pytest.raises(FormatError, match="unknown suffix '.avi'"):
        choose_format("x.avi")
    with pytest.raises(FormatError, match="does not go in a .mov"):
        choose_format("x.mov", "h264")
    with pytest.raises(FormatError, match="numbered name"):
        choose_format("still.png")
    with pytest.raises(VideoError):
        render_video(SCENE, tmp_path / "odd.mp4", 0.1, FPS, (95, 64), progress=False)
    res = run_cli("render", SCENE, "-o", str(tmp_path / "x.avi"), "--seconds", "0.1", "--size", "64x64")
    assert res.returncode != 0 and res.stderr.strip().count("\n") == 0, res.stderr
    assert "unknown suffix '.avi'" in res.stderr and not (tmp_path / "x.avi").exists()
