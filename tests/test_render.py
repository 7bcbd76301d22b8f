"""Real GL through EGL (llvmpipe here): small renders are lit, alive and deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from engine.offline import render_array


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return render_array("symphony", 10, size=(160, 90), seed=1)


def test_frames_are_not_black_and_change(frames):
    assert frames.shape == (10, 90, 160, 4)
    rgb = frames[..., :3].astype(np.float32)
    assert rgb.mean() > 3.0, "the tapestry should light the frame"
    assert (rgb.max(axis=-1) > 60).mean() > 0.01, "some pixels glow brightly"
    assert np.abs(rgb[9] - rgb[0]).mean() > 0.5, "the picture moves"


def test_background_stays_black_where_nothing_is_drawn(frames):
    # holographic foils treat black as transparent: tone mapping must not lift it
    dark = frames[..., :3].max(axis=-1)
    assert (dark == 0).mean() > 0.2


def test_same_seed_identical_frames_other_seed_different(frames):
    again = render_array("symphony", 10, size=(160, 90), seed=1)
    np.testing.assert_array_equal(frames, again)
    other = render_array("symphony", 10, size=(160, 90), seed=2)
    assert not np.array_equal(frames, other)


def test_render_scale_gives_full_size_frames_like_the_full_resolution_ones(frames):
    """`render_scale=0.5` draws at 80×45 and upscales: full-size frames that look like the
    full-resolution ones at the scale of a thread's glow, and deterministic too."""
    half = render_array("symphony", 10, size=(160, 90), seed=1, render_scale=0.5)
    assert half.shape == frames.shape
    a, b = frames[-1, ..., :3].astype(np.float32), half[-1, ..., :3].astype(np.float32)
    assert abs(b.mean() - a.mean()) < 0.15 * a.mean()
    assert np.abs(box5(b) - box5(a)).mean() < 0.3 * a.mean()
    assert not np.array_equal(a, b)  # it did draw smaller
    np.testing.assert_array_equal(half, render_array("symphony", 10, size=(160, 90), seed=1,
                                                     render_scale=0.5))


def test_render_scale_out_of_range_is_refused_by_the_cli():
    from engine.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["render", "symphony", "--render-scale", "0.5"]).render_scale == 0.5
    for bad in ("0", "1.5", "half"):
        with pytest.raises(SystemExit):
            parser.parse_args(["render", "symphony", "--render-scale", bad])


def box5(img: np.ndarray) -> np.ndarray:
    f = np.pad(img, ((2, 2), (2, 2), (0, 0)), mode="edge")
    return sum(f[y:y + img.shape[0], x:x + img.shape[1]] for y in range(5) for x in range(5)) / 25
