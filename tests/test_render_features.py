"""Renderer features on real GL (llvmpipe): shader hot reload keeping the last good program,
the two particle paths looking alike, trails, and the hologram look."""

from __future__ import annotations

import shutil

import moderngl
import numpy as np
import pytest

from engine.clock import FixedClock
from engine.paths import shader_dir
from engine.render import Renderer, headless_context
from engine.runtime import Show
from engine.scene import create_scene, step_scene
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
        step_scene(scene, 1 / 30)
        trailed = frame(renderer, scene)
    assert trailed.mean() > 1.2 * plain.mean()


def test_hologram_look_changes_the_image_but_not_the_black(ctx):
    scene = advanced_scene()
    renderer = Renderer(ctx, SIZE)
    base = frame(renderer, scene)
    scene.post.scanlines = 1.0
    scene.post.scanline_density = 27.0  # 4 output rows per line at this size
    lines = frame(renderer, scene)
    assert lines.mean() < 0.85 * base.mean()
    # 108 rows / 27 lines: a period of 4 rows, dark at rows 0 and 3 of each period (cos > 0 at
    # their centres), bright at rows 1 and 2; light kept per row, against the plain picture
    lit = base.mean(axis=(1, 2)) > 1.0
    kept = np.where(lit, lines.mean(axis=(1, 2)) / np.maximum(base.mean(axis=(1, 2)), 1e-6), np.nan)
    phase = np.nanmean(kept.reshape(-1, 4), axis=0)
    assert max(phase[0], phase[3]) < 0.6 * min(phase[1], phase[2]), phase
    scene.post.scanlines = 0.0
    scene.post.glitch = 1.0
    scene.post.chromatic = 8.0
    glitched = frame(renderer, scene)
    assert np.abs(glitched - base).mean() > 0.5
    for img in (lines, glitched):
        assert (img.max(axis=-1) == 0).mean() > 0.2  # black stays exactly black


def test_strand_paths_carry_the_same_light(ctx):
    scene = advanced_scene()
    scene.sparks.visible = False
    renderer = Renderer(ctx, (320, 180))
    images = {}
    for path in ("cpu", "lines", "ribbons"):  # cpu: the automatic choice on software GL
        scene.strands.path = path
        images[path] = frame(renderer, scene)
    ribbons = images["ribbons"]
    assert images["cpu"].mean() > 3.0
    for path in ("cpu", "lines"):
        assert abs(images[path].mean() - ribbons.mean()) < 0.15 * ribbons.mean(), path
        assert np.abs(images[path] - ribbons).mean() < 0.35 * ribbons.mean(), path
    # the CPU draws GL's lines anti-aliased: the same light, spread a pixel either side
    cpu, lines = blur3(images["cpu"]), blur3(images["lines"])
    assert np.abs(cpu - lines).mean() < 0.15 * lines.mean()


def blur3(img: np.ndarray) -> np.ndarray:
    """A 3×3 box average: compares light at the scale of an anti-aliased thread's width."""
    f = np.pad(img.astype(np.float32), ((1, 1), (1, 1), (0, 0)), mode="edge")
    return sum(f[dy:dy + img.shape[0], dx:dx + img.shape[1]] for dy in range(3) for dx in range(3)) / 9


def test_cpu_lines_carry_gl_lines_light_anti_aliased(ctx):
    """Single segments in every direction, through the near plane too: the CPU rasteriser
    draws GL's lines (the steps GL's diamond-exit rule takes, the same perspective-correct
    light) with each step's light spread across the line by a profile that sums to one."""
    import pyrr

    from engine.render.cpu_lines import StrandRasterizer

    class Segs:  # a stand-in strand solver: N two-point strands in the kernel's layout
        def __init__(self, a, b):
            self.strands, self.points, self.strands_per_bundle = len(a), 2, len(a)
            pts = np.concatenate([a, b]).astype(np.float32)  # point j of strand i: j·N + i
            self.x, self.y, self.z = (np.ascontiguousarray(pts[:, k]) for k in range(3))

    rng = np.random.default_rng(4)
    n = 60
    a = rng.uniform(-1.5, 1.5, (n, 3))
    b = a + rng.normal(0, 0.8, (n, 3))
    a[:3, 2], b[:3, 2] = 1.0, 6.0  # these cross the near plane (camera at z = 4)
    segs = Segs(a, b)
    w, h = 96, 64
    view = pyrr.matrix44.create_look_at([0, 0, 4], [0, 0, 0], [0, 1, 0], dtype=np.float32)
    proj = pyrr.matrix44.create_perspective_projection(50, w / h, 0.5, 20, dtype=np.float32)
    rgba = np.zeros((64, 4), np.float32)
    rgba[0] = (0.3, 0.6, 0.9, 1.0)
    alpha = np.zeros(64, np.float32)
    alpha[0] = 1.0
    cpu = np.zeros((h, w, 4), np.float32)
    StrandRasterizer(2 * n).paint(cpu, view, proj, segs, rgba, alpha, 2.0, h / 1080, 1.0, 0.0, True)

    from engine.render.shaders import BoundVao, ShaderCache
    shaders = ShaderCache(ctx)
    handle = shaders.get("strands_lines.glsl", {"MAX_BUNDLES": 64})
    bufs = [ctx.buffer(arr) for arr in (segs.x, segs.y, segs.z)]
    index = ctx.buffer(np.stack([np.arange(n), np.arange(n) + n], axis=1).astype(np.int32))
    vao = BoundVao(handle, [(bf, "f", nm) for bf, nm in zip(bufs, ("in_x", "in_y", "in_z"),
                                                              strict=True)],
                   index_buffer=index, index_element_size=4)
    prog = handle.program
    prog["u_view"].write(view)
    prog["u_proj"].write(proj)
    prog["u_bundle_color"].write(rgba)
    prog["u_bundle_alpha"].write(alpha)
    for name, value in (("u_strands", n), ("u_points", 2), ("u_strands_per_bundle", n),
                        ("u_width", 2.0), ("u_intensity", 1.0), ("u_depth_fade", 0.0),
                        ("u_pixel_scale", h / 1080)):
        if name in prog:
            prog[name].value = value
    tex = ctx.texture((w, h), 4, dtype="f4")
    fbo = ctx.framebuffer([tex])
    fbo.use()
    fbo.clear()
    ctx.enable(moderngl.BLEND)
    ctx.blend_func = moderngl.ONE, moderngl.ONE
    vao.get().render(moderngl.LINES)
    gl = np.frombuffer(tex.read(), np.float32).reshape(h, w, 4)
    lit_gl = gl[..., 1] > 0
    assert lit_gl.sum() > 600
    # the light GL draws, none made up by the spreading (a little spills past the border)
    np.testing.assert_allclose(cpu[..., :3].sum(), gl[..., :3].sum(), rtol=0.05)
    # ...and where GL draws it: within a pixel of every lit GL pixel, and nowhere else
    near = blur3(lit_gl[..., None].astype(np.float32))[..., 0] > 0
    assert cpu[~near, :3].sum() < 1e-3 * cpu[..., :3].sum()
    # the profile is smooth: a thread is never a hard one-pixel line
    assert ((cpu[..., 1] > 0) & ~lit_gl).sum() > 0.5 * lit_gl.sum()


def test_cpu_threads_glide_without_pulsing():
    """A thread moved by a tenth of a pixel at a time keeps its light and its peak: no
    crawling or pulsing when a strand drifts slowly (the sparkle the issue saw)."""
    import pyrr

    from engine.render.cpu_lines import StrandRasterizer

    class Segs:
        strands, points, strands_per_bundle = 1, 2, 1

    w, h = 64, 48
    view = pyrr.matrix44.create_look_at([0, 0, 4], [0, 0, 0], [0, 1, 0], dtype=np.float32)
    proj = pyrr.matrix44.create_orthogonal_projection(-w / 2, w / 2, -h / 2, h / 2, 0.1, 10,
                                                      dtype=np.float32)
    rgba = np.zeros((64, 4), np.float32)
    rgba[0] = (1.0, 1.0, 1.0, 1.0)
    alpha = np.zeros(64, np.float32)
    alpha[0] = 1.0
    raster = StrandRasterizer(2)
    sums, images = [], []
    for k in range(11):  # a near-vertical thread moving right by 0.1 px a frame
        dx = 0.1 * k
        segs = Segs()
        segs.x = np.array([-3.0 + dx, 3.0 + dx], np.float32)
        segs.y = np.array([-20.0, 20.0], np.float32)
        segs.z = np.zeros(2, np.float32)
        img = np.zeros((h, w, 4), np.float32)
        raster.paint(img, view, proj, segs, rgba, alpha, 2.0, 1.0, 1.0, 0.0, True)
        sums.append(img[..., 0].sum())
        images.append(img[..., 0])
    assert np.ptp(sums) < 1e-3 * np.mean(sums)
    # each tenth of a pixel moves a little light; a hard line jumps whole pixels (change 2.0)
    change = [np.abs(b - a).sum() / a.sum() for a, b in zip(images, images[1:], strict=False)]
    assert max(change) < 0.4, change


def test_trails_are_kept_per_view(ctx):
    from engine.render.layouts import parse_layout

    scene = advanced_scene()
    scene.post.trails = 0.8
    renderer = Renderer(ctx, (192, 108), layout=parse_layout("sbs"))
    frame(renderer, scene)
    assert len(renderer._trails) == 2  # one history per eye: views never bleed into each other


def test_cpu_canvas_is_added_over_a_coloured_background(ctx):
    """With a background colour the CPU canvas cannot be the starting image: it is added over
    the cleared target instead, and carries the same light."""
    scene = advanced_scene()
    renderer = Renderer(ctx, SIZE)
    black = frame(renderer, scene)
    scene.background = (0.03, 0.02, 0.05)
    lit = frame(renderer, scene)
    assert lit.min() > 0.0  # the background shows everywhere
    bright = black.max(axis=-1) > 120
    assert bright.sum() > 20  # strands and particles are there ...
    assert (lit[bright] >= black[bright] - 2.0).all()  # ... and no dimmer on the background
    empty = black.max(axis=-1) == 0
    np.testing.assert_allclose(lit[empty].mean(axis=0), np.median(lit[empty], axis=0), atol=6.0)


def test_cpu_box_starts_the_same_bloom_as_the_shader_box(ctx):
    """On software GL a canvas that is the whole HDR image hands the bloom its 8×8 box average
    from the CPU; the bloom must come out as the shader's 16 taps make it."""
    from engine.render.post import Bloom, PostSettings
    from engine.render.shaders import ShaderCache
    from engine.render.splat import Canvas

    size = (200, 112)
    canvas = Canvas(ctx, size)
    rng = np.random.default_rng(3)
    canvas.image[..., :3] = 4.0 * rng.random((size[1], size[0], 3), np.float32) ** 8
    canvas.image[:5, :7] = 20.0  # a bright corner: the clamped edges must agree too
    hdr = ctx.texture(size, 4, dtype="f4")
    hdr.repeat_x = hdr.repeat_y = False
    hdr.write(canvas.image)
    bloom = Bloom(ctx, ShaderCache(ctx), size, 5, quarter=True)
    results = []
    for boxed in (None, canvas.upload_box()):
        bloom.run(hdr, PostSettings(), boxed)
        tex = bloom.result
        results.append(np.frombuffer(tex.read(), np.float32).reshape(tex.height, tex.width, 4))
    assert results[0][..., :3].max() > 1.0
    np.testing.assert_allclose(results[1][..., :3], results[0][..., :3], rtol=1e-4, atol=1e-5)
    assert not Canvas(ctx, (202, 112)).boxable  # quarter texels off the 4×4 blocks: shader path
