"""The two render backends, layer paths, particle glow, resolution independence and the
render scale, on real GL (llvmpipe through EGL)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.clock import FixedClock
from engine.render import Renderer, headless_context
from engine.render.backends import is_software
from engine.render.cpu_drawers import CpuLineDrawer, SplatDrawer
from engine.render.drawers import PointDrawer, RibbonDrawer
from engine.runtime import Show
from engine.scene import create_scene
from engine.sources import open_source


@pytest.fixture(scope="module")
def ctx():
    c = headless_context()
    yield c
    c.release()


@pytest.fixture(scope="module")
def scene():
    s = create_scene("symphony", seed=3)
    show = Show(s, open_source("synthetic", seed=3), FixedClock(10))
    for _ in range(39):  # several participants, braiding
        show.advance()
    return s


@pytest.fixture(autouse=True)
def restore(scene):
    """Each test changes paths, visibility, glow or post settings: put them back."""
    glow = scene.strands.glow.copy()
    yield
    scene.strands.path = scene.sparks.path = "auto"
    scene.strands.visible = scene.sparks.visible = True
    scene.strands.glow[:] = glow
    scene.post.scanlines, scene.post.scanline_density = 0.0, 360.0


def frame(renderer: Renderer, scene) -> np.ndarray:
    renderer.render(scene, flip_y=True)
    return renderer.read_into(renderer.new_frame_buffer())[..., :3].astype(np.float32)


def hdr_light(renderer: Renderer, scene) -> float:
    """The total light in the (only) view's HDR target, before bloom and tone mapping."""
    renderer.render(scene)
    (vb,) = renderer._views.values()
    dtype = np.float32 if vb.hdr.dtype == "f4" else np.float16
    return float(np.frombuffer(vb.hdr.read(), dtype).reshape(-1, 4)[:, :3].astype(np.float64).sum())


def test_each_backend_draws_its_own_paths_and_they_look_alike(ctx, scene):
    software = Renderer(ctx, (320, 180), backend="software")
    gpu = Renderer(ctx, (320, 180), backend="gpu")  # points and ribbons, drawn here by llvmpipe
    assert software.software and not gpu.software
    a, b = frame(software, scene), frame(gpu, scene)
    kinds = {type(d) for d in software._drawers.values()}, {type(d) for d in gpu._drawers.values()}
    assert kinds == ({CpuLineDrawer, SplatDrawer}, {RibbonDrawer, PointDrawer})
    assert a.mean() > 5.0
    assert abs(a.mean() - b.mean()) < 0.2 * b.mean()
    assert np.abs(blur(a) - blur(b)).mean() < 0.3 * b.mean()
    # "auto" picks by the GL renderer's name: software GL (llvmpipe) gets the CPU paths
    auto = Renderer(ctx, (320, 180))
    assert auto.backend.name == ("software" if is_software(ctx) else "gpu")
    np.testing.assert_array_equal(frame(auto, scene), a if auto.software else b)


def test_a_layer_path_names_another_drawer_and_switches_back(ctx, scene):
    renderer = Renderer(ctx, (192, 108), backend="software")
    auto = frame(renderer, scene)
    scene.sparks.path = "points"
    frame(renderer, scene)
    assert {type(d) for d in renderer._drawers.values()} == {CpuLineDrawer, PointDrawer}
    scene.sparks.path = "auto"
    np.testing.assert_array_equal(frame(renderer, scene), auto)


@pytest.mark.parametrize(("layer", "typo", "allowed"), [
    ("strands", "ribbon", "'auto', 'ribbons', 'lines', 'cpu'"),
    ("sparks", "Splat", "'auto', 'points', 'splat'"),
])
def test_a_misspelt_path_is_an_error_naming_the_allowed_ones(ctx, scene, layer, typo, allowed):
    renderer = Renderer(ctx, (64, 36))
    getattr(scene, layer).path = typo
    with pytest.raises(ValueError, match=f"path is '{typo}'; expected one of {allowed}"):
        renderer.render(scene)


def test_unknown_backend_and_render_scale_are_errors(ctx):
    with pytest.raises(ValueError, match="expected 'auto', 'gpu' or 'software'"):
        Renderer(ctx, (64, 36), backend="vulkan")
    with pytest.raises(ValueError, match="0.1 to 1"):
        Renderer(ctx, (64, 36), render_scale=1.5)


@pytest.mark.parametrize("backend", ["software", "gpu"])
def test_particles_take_their_bundles_glow(ctx, scene, backend):
    """Halving every bundle's glow halves its particles' light, colour untouched."""
    renderer = Renderer(ctx, (192, 108), backend=backend)
    scene.strands.visible = False
    full = hdr_light(renderer, scene)
    colour = scene.strands.color.copy()
    scene.strands.glow[:] *= 0.5
    half = hdr_light(renderer, scene)
    assert full > 1.0
    assert half == pytest.approx(0.5 * full, rel=0.02)
    np.testing.assert_array_equal(scene.strands.color, colour)


@pytest.mark.parametrize("backend", ["software", "gpu"])
@pytest.mark.parametrize("what", ["sparks", "strands"])
def test_a_small_picture_carries_the_light_of_a_large_one(ctx, scene, what, backend):
    """Particle size and ribbon width are fractions of the picture's height (pixels at 1080p):
    drawn at 96×54 each layer puts the same light per picture area into the HDR target as at
    960×540 — particles below a pixel get dimmer, not lost, and never brighter."""
    other = "strands" if what == "sparks" else "sparks"
    getattr(scene, other).visible = False
    per_area = [hdr_light(Renderer(ctx, size, backend=backend), scene) / (size[0] * size[1])
                for size in ((96, 54), (960, 540))]
    assert per_area[1] > 0.005
    assert per_area[0] == pytest.approx(per_area[1], rel=0.06)


def test_scanlines_blend_into_their_average_where_rows_are_too_few(ctx, scene):
    """180 lines on 54 rows cannot be drawn: they dim every row alike (as the large picture
    shrunk does) instead of aliasing into coarse bands; on 540 rows (3 per line) they show."""
    def rows_kept(size):
        renderer = Renderer(ctx, size)
        scene.post.scanlines = 0.0
        plain = frame(renderer, scene).mean(axis=(1, 2))
        scene.post.scanlines, scene.post.scanline_density = 0.6, 180.0
        lined = frame(renderer, scene).mean(axis=(1, 2))
        lit = plain > 2.0
        return lined[lit] / plain[lit]

    small, big = rows_kept((96, 54)), rows_kept((960, 540))
    assert small.std() < 0.05, small  # even dimming
    assert big.std() > 0.1  # visible lines
    assert abs(small.mean() - big.mean()) < 0.08


def test_render_scale_draws_smaller_and_fills_the_output(ctx, scene):
    full = Renderer(ctx, (320, 180))
    half = Renderer(ctx, (320, 180), render_scale=0.5)
    a, b = frame(full, scene), frame(half, scene)
    assert b.shape == a.shape == (180, 320, 3)
    assert {k[:2] for k in half._views} == {(160, 90)}  # the scene was drawn at half size
    assert b.mean() > 5.0
    assert abs(b.mean() - a.mean()) < 0.15 * a.mean()
    assert np.abs(blur(b) - blur(a)).mean() < 0.25 * a.mean()
    assert not np.array_equal(a, b)


def blur(img: np.ndarray, r: int = 2) -> np.ndarray:
    """A (2r+1)² box average: compares pictures at the scale of a thread's glow."""
    k = 2 * r + 1
    f = np.pad(img, ((r, r), (r, r), (0, 0)), mode="edge")
    return sum(f[dy:dy + img.shape[0], dx:dx + img.shape[1]] for dy in range(k) for dx in range(k)) / k**2


def test_rim_light_reaches_every_strand_path(ctx, scene):
    """Ribbons draw the rim on their edges; threads (CPU or GL lines) carry its light along
    the line: turning the rim up brightens every path alike."""
    scene.sparks.visible = False
    width = scene.strands.width
    scene.strands.width = 12.0  # ribbons a few pixels wide, so their edges exist
    renderer = Renderer(ctx, (640, 360), backend="software")
    gain = {}
    try:
        for path in ("ribbons", "lines", "cpu"):
            scene.strands.path = path
            scene.strands.rim = 0.0
            plain = hdr_light(renderer, scene)
            scene.strands.rim = 1.0
            gain[path] = hdr_light(renderer, scene) / plain
    finally:
        scene.strands.rim, scene.strands.width = 0.0, width
    assert gain["ribbons"] > 1.2, gain
    for path in ("lines", "cpu"):
        assert gain[path] == pytest.approx(gain["ribbons"], rel=0.05), gain
