"""Output layouts through real GL (llvmpipe via EGL): reference images, the quilt's view order
and parallax, the pyramid's tiles, the lenticular interleave against numpy, stereo disparity.

The scenes are built here from explicit geometry (no solver, no data source), so the images
change only when drawing changes. Regenerate the references with
`SYMPHONY_REGEN_REFERENCES=1 python3 -m pytest tests/test_layouts.py`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import moderngl
import numpy as np
import pytest

from engine import Scene, StrandLayer
from engine.outputs.image import load_png, save_png
from engine.render import Renderer, headless_context
from engine.render.layouts import (
    AnaglyphLayout,
    Calibration,
    FlatLayout,
    LayoutError,
    LenticularLayout,
    PyramidLayout,
    QuiltLayout,
    SideBySideLayout,
    parse_layout,
)
from engine.render.layouts.stereo import DUBOIS_LEFT, DUBOIS_RIGHT
from tests.conftest import run_cli

REFERENCE = Path(__file__).parent / "reference"
REGEN = os.environ.get("SYMPHONY_REGEN_REFERENCES") == "1"


@pytest.fixture(scope="module")
def ctx():
    context = headless_context()
    yield context
    context.release()


class Helix(Scene):
    """Three coloured helices: asymmetric enough that a rotated or swapped view shows."""

    title = "helix"

    def setup(self) -> None:
        layer = self.add(StrandLayer(bundles=3, strands_per_bundle=4, points=48, width=6.0))
        s = layer._solver
        t = np.linspace(0.0, 1.0, s.points)[:, None]
        i = np.arange(s.strands)[None, :]
        angle = 2 * np.pi * i / s.strands + 4 * np.pi * t
        radius = 0.6 + 0.5 * (i // 4)
        s.x[:] = (radius * np.cos(angle)).ravel()
        s.y[:] = np.broadcast_to(-2.0 + 4.0 * t, angle.shape).ravel()
        s.z[:] = (0.6 * radius * np.sin(angle)).ravel()
        layer.color[:] = [(1.0, 0.3, 0.1), (0.2, 1.0, 0.4), (0.3, 0.5, 1.0)]


class Markers(Scene):
    """Short vertical bars at given points, one colour each; no bloom, level camera."""

    title = "markers"

    def __init__(self, markers: list[tuple[tuple[float, float, float], tuple[float, float, float]]],
                 width: float = 40.0) -> None:
        super().__init__()
        self.markers, self.width = markers, width

    def setup(self) -> None:
        layer = self.add(StrandLayer(bundles=len(self.markers), strands_per_bundle=1, points=2,
                                     width=self.width))
        layer.path = "ribbons"  # wide markers whose centroids the tests measure
        s = layer._solver
        for b, ((x, y, z), color) in enumerate(self.markers):
            for j, dy in enumerate((-0.25, 0.25)):
                k = j * s.strands + b
                s.x[k], s.y[k], s.z[k] = x, y + dy, z
            layer.color[b] = color
        self.camera.elevation = 0.0
        self.post.bloom_strength = 0.0


def make(scene: Scene) -> Scene:
    scene.setup()
    return scene


def render(ctx: moderngl.Context, scene: Scene, layout, size: tuple[int, int]) -> np.ndarray:
    """One frame read back top row first (as video files and PNGs store it), RGB."""
    renderer = Renderer(ctx, size, layout=parse_layout(layout))
    renderer.render(scene, flip_y=True)
    return renderer.read_into(renderer.new_frame_buffer())[..., :3].copy()


def centroid(channel: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted (x, y) in pixel indices of one channel of an image region."""
    w = channel.astype(np.float64)
    total = w.sum()
    assert total > 0, "the marker is not in this region"
    ys, xs = np.indices(w.shape)
    return float((xs * w).sum() / total), float((ys * w).sum() / total)


def projected_x(point, view: np.ndarray, proj: np.ndarray, width: int) -> float:
    """Where a world point lands, in pixel indices (pixel i has its centre at i + 0.5)."""
    clip = np.append(np.asarray(point, np.float64), 1.0) @ view.astype(np.float64) @ proj.astype(np.float64)
    return (clip[0] / clip[3] + 1.0) * 0.5 * width - 0.5


# --- reference images ---------------------------------------------------------------------------

REFERENCE_SPECS = {
    "flat": "flat",
    "pyramid": "pyramid",
    "quilt": "quilt:4x3",
    "sbs": "sbs",
    "anaglyph": "anaglyph",
    "lenticular": "lenticular:lenticular_example.json,quilt=4x3,size=256x192",
}


@pytest.mark.parametrize("name", list(REFERENCE_SPECS))
def test_reference_images(ctx, name, tmp_path):
    image = render(ctx, make(Helix()), REFERENCE_SPECS[name], (192, 108))
    path = REFERENCE / f"layout_{name}.png"
    if REGEN:
        REFERENCE.mkdir(exist_ok=True)
        save_png(path, image)
    if not path.is_file():
        pytest.fail(f"missing {path.name}: run with SYMPHONY_REGEN_REFERENCES=1 to create it")
    expected = load_png(path)[..., :3]
    diff = np.abs(image.astype(np.int16) - expected.astype(np.int16))
    bad = (diff.max(axis=-1) > 32).mean()
    if diff.mean() > 1.5 or bad > 0.005:
        save_png(tmp_path / path.name, image)
        pytest.fail(f"{name}: mean abs diff {diff.mean():.2f}, {bad:.2%} pixels off by > 32 "
                    f"(image written to {tmp_path / path.name})")
    assert image.max() > 100, "the helix should be lit"
    assert (image.max(axis=-1) == 0).mean() > 0.3, "the background stays exactly black"


# --- quilt --------------------------------------------------------------------------------------

def test_quilt_view_order_parallax_and_tile_placement(ctx):
    near = (0.0, 0.6, 3.5)  # 4.5 units from the camera: in front of the focal plane at 8
    focal = (1.2, -0.6, 0.0)  # on the focal plane, off centre (toe-in would move it)
    scene = make(Markers([(near, (1.0, 0.0, 0.0)), (focal, (0.0, 1.0, 0.0))]))
    layout = QuiltLayout(4, 3)
    size = (390, 290)  # does not divide: tiles of 97x96, two spare columns and rows
    tw, th = layout.tile_size(size)
    assert (tw, th) == (97, 96)
    image = render(ctx, scene, layout, size)
    h = size[1]
    assert not image[:, 4 * tw:].any() and not image[:h - 3 * th].any(), "spare pixels stay black"

    offsets = scene.camera.cone_offsets(layout.views, layout.cone)
    assert offsets[0] < 0 < offsets[-1], "view 0 is the leftmost camera"
    near_x, near_y, focal_x = [], [], []
    for i in range(layout.views):
        col, row = i % 4, i // 4  # row counted from the bottom of the picture
        tile = image[h - (row + 1) * th:h - row * th, col * tw:(col + 1) * tw]
        nx, ny = centroid(tile[..., 0])
        fx, _ = centroid(tile[..., 1])
        view, proj = scene.camera.shifted(float(offsets[i]), tw / th)
        assert abs(nx - projected_x(near, view, proj, tw)) < 0.6, f"view {i}: near marker misplaced"
        assert abs(fx - projected_x(focal, view, proj, tw)) < 0.6, f"view {i}: focal marker misplaced"
        near_x.append(nx)
        near_y.append(ny)
        focal_x.append(fx)
    # the camera moves right from view to view: things in front of the focal plane move left
    assert np.all(np.diff(near_x) < -0.5), f"near marker must move left: {np.round(near_x, 2)}"
    assert near_x[0] - near_x[-1] > 10
    assert np.ptp(focal_x) < 0.5, "the focal plane is shared by every view"
    assert np.ptp(near_y) < 0.5, "no vertical parallax (never toe-in)"


def test_quilt_spec_and_file_name_tag():
    q = parse_layout("quilt:8x6,cone=40")
    assert (q.cols, q.rows, q.cone, q.aspect) == (8, 6, 40.0, None)
    assert q.suffix((3360, 3360)) == "_qs8x6a0.75"
    assert QuiltLayout(5, 9, aspect=16 / 9).suffix((4096, 4096)) == "_qs5x9a1.7778"
    assert q.view_portion((3360, 3360)) == (1.0, 1.0)
    with pytest.raises(LayoutError, match="too small"):
        q.tile_size((10, 10))


# --- pyramid ------------------------------------------------------------------------------------

def test_pyramid_tiles_are_rotated_views_on_exact_black(ctx):
    scene = make(Helix())
    size = (384, 216)
    image = render(ctx, scene, PyramidLayout(), size)
    side, tiles = PyramidLayout.tiles(size)
    assert side == 72
    lit = np.zeros(image.shape[:2], bool)
    base = scene.camera.azimuth
    for name, d_az, x, y, turns in tiles:
        top = size[1] - y - side
        tile = image[top:top + side, x:x + side]
        lit[top:top + side, x:x + side] = True
        assert tile.max() > 60, f"{name} tile is dark"
        scene.camera.azimuth = base + d_az
        alone = render(ctx, scene, FlatLayout(), (side, side))
        scene.camera.azimuth = base
        diff = np.abs(tile.astype(np.int16) - np.rot90(alone, turns).astype(np.int16))
        assert diff.max() <= 2, f"{name} tile is not its view turned {90 * turns} degrees"
    names = [t[0] for t in tiles]
    top_tile = min(tiles, key=lambda t: -t[3])
    assert top_tile[0] == "front" and top_tile[4] == 0, "front view at the top, upright"
    assert names == ["front", "right", "back", "left"]
    assert not image[~lit].any(), "centre, corners and margins are exactly black"


# --- lenticular ---------------------------------------------------------------------------------

def lenticular_reference(cal: dict, size: tuple[int, int], n: int):
    """Per output subpixel: the view the formulas choose, and where they are ambiguous."""
    w, h = size
    u = (np.arange(w) + 0.5)[None, :] / w
    v = 1.0 - (np.arange(h) + 0.5)[:, None] / h  # rows are stored top first; v runs up
    pitch = cal["pitch"] * (cal["screenW"] / cal["DPI"]) * math.cos(math.atan(1.0 / cal["slope"]))
    tilt = cal["screenH"] / (cal["screenW"] * cal["slope"]) * (-1 if cal["flipImageX"] else 1)
    subp = 1.0 / (3.0 * cal["screenW"])
    views, unsure = np.zeros((h, w, 3), int), np.zeros((h, w, 3), bool)
    for c in range(3):
        sub = 2 - c if cal["flipSubp"] else c
        phase = (u + sub * subp + v * tilt) * pitch - cal["center"]
        phase -= np.floor(phase)
        if cal["invView"]:
            phase = 1.0 - phase
        views[..., c] = np.minimum(np.floor(phase * n), n - 1)
        unsure[..., c] = np.abs(phase * n - np.round(phase * n)) < 2e-3
    return views, unsure


CALIBRATIONS = {
    "example": Calibration.load("lenticular_example.json").__dict__,
    "flipped": {"pitch": 47.6, "slope": 5.3, "center": -0.21, "DPI": 226.0, "screenW": 160.0,
                "screenH": 96.0, "invView": 0.0, "flipImageX": 1.0, "flipImageY": 1.0,
                "flipSubp": 1.0, "viewCone": 40.0},
}


@pytest.mark.parametrize("which", list(CALIBRATIONS))
def test_lenticular_subpixel_view_selection_matches_numpy(ctx, which):
    raw = CALIBRATIONS[which]
    if which == "example":  # dataclass field names back to the calibration file's keys
        keys = {"dpi": "DPI", "screen_w": "screenW", "screen_h": "screenH", "view_cone": "viewCone",
                "inv_view": "invView", "flip_x": "flipImageX", "flip_y": "flipImageY",
                "flip_subp": "flipSubp"}
        raw = {keys.get(k, k): val for k, val in raw.items()}
    cal = Calibration.from_dict(raw)
    cols, rows, tile = 4, 3, 16
    quilt_size = (cols * tile + 3, rows * tile + 2)  # uneven: sampled through viewPortion
    layout = LenticularLayout(cal, cols, rows, quilt_size)
    # tile i: 10 + 20 i, plus 1 in its right half and 2 in its top half (checks the flips)
    data = np.full((quilt_size[1], quilt_size[0], 4), 255, np.uint8)  # texture rows: bottom first
    for i in range(cols * rows):
        c, r = i % cols, i // cols
        quad = np.add.outer(2 * (np.arange(tile) >= tile // 2), np.arange(tile) >= tile // 2)
        data[r * tile:(r + 1) * tile, c * tile:(c + 1) * tile, :3] = (10 + 20 * i + quad)[..., None]
    quilt = ctx.texture(quilt_size, 4, data.tobytes())
    quilt.filter = (moderngl.NEAREST, moderngl.NEAREST)
    size = (160, 96)
    renderer = Renderer(ctx, size, layout=layout)
    layout.interleave(renderer, quilt, renderer.output_fbo, size, flip_y=True)
    out = renderer.read_into(renderer.new_frame_buffer())[..., :3].astype(int)
    quilt.release()

    views, unsure = lenticular_reference(raw, size, cols * rows)
    assert (out >= 10).all() and (out < 10 + 20 * cols * rows).all(), "sampled outside the tiles"
    got_view, quad = (out - 10) // 20, (out - 10) % 20
    ok = ~unsure
    assert ok.mean() > 0.97
    mismatch = (got_view != views) & ok
    assert mismatch.sum() == 0, f"{mismatch.sum()} subpixels took the wrong view"
    assert len(np.unique(views)) == cols * rows, "every view is used somewhere"
    # which quarter of the tile each pixel sampled: mirrored by flipImageX / flipImageY
    u = (np.arange(size[0]) + 0.5) / size[0]
    v = 1.0 - (np.arange(size[1]) + 0.5) / size[1]
    su = 1.0 - u if raw["flipImageX"] else u
    sv = 1.0 - v if raw["flipImageY"] else v
    expect_quad = 2 * (sv[:, None] >= 0.5) + (su[None, :] >= 0.5)
    clear = (np.abs(su - 0.5)[None, :] > 1.0 / tile) & (np.abs(sv - 0.5)[:, None] > 1.0 / tile)
    assert (quad[..., 0][clear] == expect_quad[clear]).all()


def test_calibration_errors(tmp_path):
    with pytest.raises(LayoutError, match="not found"):
        parse_layout("lenticular:nowhere.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"pitch": 50, "slope": -7}')
    with pytest.raises(LayoutError, match="missing 'center'"):
        parse_layout(f"lenticular:{bad}")
    bad.write_text("{not json")
    with pytest.raises(LayoutError, match="cannot read"):
        parse_layout(f"lenticular:{bad}")


# --- stereo -------------------------------------------------------------------------------------

NEAR, FOCAL = (0.0, 0.6, 3.0), (0.8, -0.6, 0.0)


def stereo_scene() -> Scene:
    return make(Markers([(NEAR, (1.0, 1.0, 1.0)), (FOCAL, (1.0, 1.0, 1.0))], width=30.0))


def test_sbs_near_objects_differ_focal_plane_agrees(ctx):
    scene = stereo_scene()
    size = (384, 144)
    image = render(ctx, scene, "sbs", size)
    half, mid = size[0] // 2, size[1] // 2
    left, right = image[:, :half, 0], image[:, half:, 0]
    (lnx, _), (rnx, _) = centroid(left[:mid]), centroid(right[:mid])
    (lfx, _), (rfx, _) = centroid(left[mid:]), centroid(right[mid:])
    assert abs(lfx - rfx) < 0.3, "zero disparity on the focal plane"
    (lv, lp), (rv, rp) = SideBySideLayout().eyes(scene.camera, half / size[1])
    expected = projected_x(NEAR, lv, lp, half) - projected_x(NEAR, rv, rp, half)
    assert expected > 3
    assert abs((lnx - rnx) - expected) < 0.6, "crossed disparity in front of the focal plane"


def test_anaglyph_is_dubois_of_the_two_eyes_in_linear_light(ctx):
    scene = stereo_scene()
    w, h = 192, 144
    pair = render(ctx, scene, "sbs", (2 * w, h)).astype(np.float64) / 255.0
    image = render(ctx, scene, AnaglyphLayout(), (w, h))
    lin_l, lin_r = pair[:, :w] ** 2.2, pair[:, w:] ** 2.2
    mixed = np.clip(lin_l @ DUBOIS_LEFT.T + lin_r @ DUBOIS_RIGHT.T, 0.0, 1.0)
    expected = np.round(mixed ** (1 / 2.2) * 255.0)
    diff = np.abs(image - expected)
    assert diff.mean() < 0.5 and (diff > 6).mean() < 0.002
    # red carries the left eye, green the right: apart in front of the focal plane, together on it
    mid = h // 2
    (rn, _), (gn, _) = centroid(image[:mid, :, 0]), centroid(image[:mid, :, 1])
    (rf, _), (gf, _) = centroid(image[mid:, :, 0]), centroid(image[mid:, :, 1])
    assert rn - gn > 3 and abs(rf - gf) < 0.5
    assert not image[0].any() and not image[-1].any(), "black stays black"


def test_stereo_separation_scales_with_the_scene():
    scene = Scene()
    assert SideBySideLayout().separation(scene.camera) == pytest.approx(scene.camera.distance / 30.0)
    assert parse_layout("anaglyph:eye=0.065,scale=10").separation(scene.camera) == pytest.approx(0.65)
    assert parse_layout("sbs:squeeze=1").squeeze


# --- camera -------------------------------------------------------------------------------------

def test_off_axis_camera_keeps_the_focal_plane():
    scene = Scene()
    cam = scene.camera
    cam.azimuth, cam.elevation, cam.target = 30.0, 15.0, np.array([0.5, 1.0, -0.2], np.float32)
    view0, proj0 = cam.view(), cam.projection(1.5)
    v, p = cam.shifted(0.0, 1.5)
    np.testing.assert_allclose(v, view0, atol=1e-6)
    np.testing.assert_allclose(p, proj0, atol=1e-6)
    up = np.cross(cam.right, cam.eye - cam.target)
    on_plane = cam.target + 0.7 * cam.right + 0.3 * up / np.linalg.norm(up)
    in_front = cam.target + 0.4 * (cam.eye - cam.target)
    for offset in (-1.0, 0.4, 2.0):
        v, p = cam.shifted(offset, 1.5)
        assert projected_x(on_plane, v, p, 100) == pytest.approx(projected_x(on_plane, view0, proj0, 100),
                                                                 abs=1e-3)
        moved = projected_x(in_front, v, p, 100) - projected_x(in_front, view0, proj0, 100)
        assert np.sign(moved) == -np.sign(offset), "near things move against the camera"
    offsets = cam.cone_offsets(5, 35.0)
    np.testing.assert_allclose(offsets, cam.distance * np.tan(np.radians([-17.5, -8.75, 0, 8.75, 17.5])))


# --- plumbing -----------------------------------------------------------------------------------

def test_render_array_takes_a_layout():
    from engine.offline import render_array

    frames = render_array("symphony", 1, size=(96, 96), layout="pyramid")
    centre = frames[0, 32:64, 32:64, :3]
    assert not centre.any() and frames[0, ..., :3].max() > 0


@pytest.mark.parametrize("command", [["render", "-o", "out.mp4"], ["show", "--frames", "1"]])
def test_cli_rejects_a_bad_layout_in_one_line(tmp_path, command):
    args = [command[0], "symphony", *command[1:], "--layout", "quilt:0x6"]
    if command[0] == "render":
        args[3] = str(tmp_path / "out.mp4")
    result = run_cli(*args, env={"DISPLAY": ""})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symphony: error: layout 'quilt:0x6'"), lines
    assert not (tmp_path / "out.mp4").exists()
