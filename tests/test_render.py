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
