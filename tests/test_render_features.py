"""Renderer features on real GL (llvmpipe): shader hot reload keeping the last good program,
the two particle paths looking alike, trails, and the hologram look."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from engine.clock import FixedClock
from engine.paths import shader_dir
from engine.render import Renderer, headless_context
from engine.runtime import Show
from engine.scene import create_scene
from engine.sources import open_source

SIZE = (192, 108)


@pytest.fixture(scope="module")
def ctx():
    c = headless_context()
    yield c
    c.release()


def advanced_scene(frames: int = 45, seed: int = 1):
    scene = create_scene("symphony", seed=seed)
    show = Show(scene, open_source("synthetic", seed=seed), FixedClock(30))
    for _ in range(frames):
        show.advance()
    return scene


def frame(renderer: Renderer, scene) -> np.ndarray:
    renderer.render(scene, flip_y=True)
    return renderer.read_into(renderer.new_frame_buffer())[..., :3].astype(np.float32)


def test_broken_shader_edit_keeps_the_last_good_program(ctx, tmp_path):
    root = tmp_path / "shaders"
    shutil.copytree(shader_dir(), root)
    renderer = Renderer(ctx, SIZE, shader_root=root)
    scene = advanced_scene()
    good = frame(renderer, scene)
    composite = root / "composite.glsl"
    original = composite.read_text()
    composite.write_text(original.replace("f_color = vec4(encode_display(mapped), 1.0);",
                                          "f_color = vec4(encode_display(mapped), 1.0) +;"))
    errors = renderer.reload_shaders()
    assert errors and all("composite.glsl:" in e for e in errors)  # each variant reports it
    np.testing.assert_array_equal(frame(renderer, scene), good)  # still drawing, unchanged
    # a good edit is picked up and clears the error
    composite.write_text(original.replace("vec3 mapped = aces_filmic(hdr * u_exposure);",
                                          "vec3 mapped = aces_filmic(hdr * u_exposure * 0.25);"))
    assert renderer.reload_shaders() == []
    darker = frame(renderer, scene)
    assert darker.mean() < 0.8 * good.mean()


def test_splat_and_points_look_alike(ctx):
    scene = advanced_scene()
    renderer = Renderer(ctx, (320, 180))
    assert renderer.software  # llvmpipe here: the CPU splat is the automatic choice
    scene.sparks.path = "splat"
    splat = frame(renderer, scene)
    scene.sparks.path = "points"
    points = frame(renderer, scene)
    assert abs(splat.mean() - points.mean()) < 0.15 * points.mean()
    assert np.abs(splat - points).mean() < 0.3 * points.mean()
    # and the particles matter: without them the frame is clearly darker
    scene.sparks.visible = False
    assert frame(renderer, scene).mean() < points.mean() - 0.5


def test_trails_keep_light_from_earlier_frames(ctx):
    scene = advanced_scene()
    renderer = Renderer(ctx, SIZE)
    plain = frame(renderer, scene)
    scene.post.trails = 0.9
    for _ in range(5):
        scene.step(1 / 30)
        trailed = frame(renderer, scene)
    assert trailed.mean() > 1.2 * plain.mean()


def test_hologram_look_changes_the_image_but_not_the_black(ctx):
    scene = advanced_scene()
    renderer = Renderer(ctx, SIZE)
    base = frame(renderer, scene)
    scene.post.scanlines = 1.0
    scene.post.scanline_density = 27.0  # 4 output rows per line at this size
    lines = frame(renderer, scene)
    rows = lines.mean(axis=(1, 2))
    assert lines.mean() < 0.85 * base.mean()
    assert np.std(rows[::4] - rows[2::4]) > 0 or abs(rows[::4].mean() - rows[2::4].mean()) > 1.0
    scene.post.scanlines = 0.0
    scene.post.glitch = 1.0
    scene.post.chromatic = 8.0
    glitched = frame(renderer, scene)
    assert np.abs(glitched - base).mean() > 0.5
    for img in (lines, glitched):
        assert (img.max(axis=-1) == 0).mean() > 0.2  # black stays exactly black


def test_strand_lines_and_ribbons_carry_the_same_light(ctx):
    scene = advanced_scene()
    scene.sparks.visible = False
    renderer = Renderer(ctx, (320, 180))
    scene.strands.path = "lines"  # the automatic choice on software GL
    lines = frame(renderer, scene)
    scene.strands.path = "ribbons"
    ribbons = frame(renderer, scene)
    assert lines.mean() > 3.0
    assert abs(lines.mean() - ribbons.mean()) < 0.15 * ribbons.mean()
    assert np.abs(lines - ribbons).mean() < 0.35 * ribbons.mean()


def test_trails_are_kept_per_view(ctx):
    from engine.render.layouts import parse_layout

    scene = advanced_scene()
    scene.post.trails = 0.8
    renderer = Renderer(ctx, (192, 108), layout=parse_layout("sbs"))
    frame(renderer, scene)
    assert len(renderer._trails) == 2  # one history per eye: views never bleed into each other
