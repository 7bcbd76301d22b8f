"""Venue outputs on a real X server with two monitors (X.Org dummy driver) and real GL windows:
full-screen placement, corner pin and mesh warp against the analytic mapping, soft-edge blend
sums, masks, regions joining into the whole canvas, calibration, screenshots, monitors that
come and go, and the command line."""

from __future__ import annotations

import time
from pathlib import Path

import glfw
import numpy as np
import pytest

from engine.clock import FixedClock
from engine.outputs.image import load_png
from engine.venue import load_venue
from engine.venue.calibrate import FINE, STEP
from engine.venue.mapping import forward
from engine.venue.masks import inside_polygon
from engine.venue.show import run_venue_show
from tests.conftest import enable_dummy_monitor, run_cli, xrandr

pytestmark = [pytest.mark.window, pytest.mark.own_process]


def run(tmp_path: Path, text: str, frames: int = 3, pattern: str | None = None, on_frame=None,
        scene: str = "symphony") -> dict[str, np.ndarray]:
    """Run a venue show; the last frame of every output, by name."""
    path = tmp_path / "venue.toml"
    path.write_text(text)
    shots: dict[str, np.ndarray] = {}

    def look(state):
        if on_frame is not None and on_frame(state):
            return True
        if state.frame >= frames:
            shots.update({o.name: state.pixels(o.name) for o in state.outputs})
        return None

    # a fixed clock: the same frames whatever the machine's load (the picture checks compare them)
    run_venue_show(path, scene, frames=frames, vsync=False, pattern=pattern, on_frame=look,
                   clock=FixedClock(30.0))
    return shots


@pytest.fixture
def display(two_monitors, monkeypatch):
    monkeypatch.setenv("DISPLAY", two_monitors)
    return two_monitors


def test_two_outputs_land_full_screen_on_their_monitors(display, tmp_path):
    seen = {}

    def check(state):
        if state.frame == 2:
            seen.update({o.name: (o.position, o.framebuffer_size) for o in state.outputs})

    shots = run(tmp_path, "[[output]]\nname = 'a'\nmonitor = 0\nfullscreen = true\n"
                          "[[output]]\nname = 'b'\nmonitor = 'DUMMY1'\nfullscreen = true\n", on_frame=check)
    assert seen["a"] == ((0, 0), (640, 480))
    assert seen["b"] == ((640, 0), (400, 300))
    assert shots["a"].shape == (480, 640, 4) and shots["b"].shape == (300, 400, 4)
    assert shots["a"][..., :3].mean() > 2 and shots["b"][..., :3].mean() > 2, "both show the tapestry"


def line_errors(image: np.ndarray, corners, mesh, aspect: float) -> np.ndarray:
    """For the grid pattern's vertical lines (square cells an eighth of the height, one line
    through the centre: u = 1/2 + k / (8 aspect)): per scanline, the distance in pixels between
    the drawn line's centroid and where the analytic mapping puts it."""
    h, w = image.shape[:2]
    lum = image[..., 0].astype(np.float64)
    errors = []
    v = np.linspace(0.0, 1.0, 4001)
    for u in 0.5 + np.arange(-8, 9) / (8 * aspect):
        if not 0.05 < u < 0.95:
            continue
        pts = forward(corners, mesh, np.stack([np.full_like(v, u), v], -1))
        for row in range(4, h - 4, 3):
            y = (row + 0.5) / h
            if not pts[0, 1] < y < pts[-1, 1]:
                continue
            vv = np.interp(y, pts[:, 1], v)
            if abs(vv * 8 - round(vv * 8)) * h / 8 < 8:  # a horizontal line crosses here
                continue
            x = np.interp(y, pts[:, 1], pts[:, 0]) * w - 0.5  # pixel index of the line's centre
            lo, hi = int(np.floor(x)) - 4, int(np.ceil(x)) + 5
            if lo < 0 or hi > w:
                continue
            seg = lum[row, lo:hi]
            assert seg.sum() > 0, f"line u={u:.3f} missing on row {row}"
            errors.append(abs((seg * np.arange(lo, hi)).sum() / seg.sum() - x))
    return np.array(errors)


def test_corner_pin_matches_the_homography_within_a_pixel(display, tmp_path):
    corners = [[0.08, 0.05], [0.95, 0.12], [0.9, 0.93], [0.03, 0.85]]
    shots = run(tmp_path, f"[[output]]\nname = 'pin'\nsize = [320, 240]\ncorners = {corners}\n",
                pattern="grid")
    image = shots["pin"]
    errors = line_errors(image, corners, None, 320 / 240)
    assert len(errors) > 200
    assert errors.max() < 1.0, f"worst {errors.max():.2f} px, mean {errors.mean():.3f} px"
    assert image[2, 2, :3].max() == 0 and image[-2, -2, :3].max() == 0, "outside the pin stays black"


def test_mesh_warp_matches_the_smooth_interpolation_within_a_pixel(display, tmp_path):
    mesh = [[[0, 0], [0.5, 0.0], [1, 0]],
            [[0.0, 0.5], [0.58, 0.46], [1.0, 0.5]],
            [[0, 1], [0.45, 1.0], [1, 1]]]
    corners = [[0.05, 0.05], [0.95, 0.05], [0.95, 0.95], [0.05, 0.95]]
    shots = run(tmp_path, f"[[output]]\nname = 'mesh'\nsize = [320, 240]\ncorners = {corners}\n"
                          f"mesh = {mesh}\n", pattern="grid")
    errors = line_errors(shots["mesh"], corners, mesh, 320 / 240)
    assert len(errors) > 200
    assert errors.max() < 1.0, f"worst {errors.max():.2f} px, mean {errors.mean():.3f} px"


def test_blended_overlap_sums_to_even_light(display, tmp_path):
    shots = run(tmp_path, """
[show]
canvas = [360, 200]
[[output]]
name = "left"
monitor = 0
size = [200, 200]
region = [0, 0, 200, 200]
blend = { right = 0.2, gamma = 2.2 }
[[output]]
name = "right"
monitor = 1
size = [200, 200]
region = [160, 0, 200, 200]
blend = { left = 0.2, gamma = 2.2 }
""", pattern="white")
    linear = {k: (v[..., :3].astype(np.float64) / 255.0) ** 2.2 for k, v in shots.items()}
    overlap = linear["left"][:, 160:] + linear["right"][:, :40]
    assert abs(overlap.mean() - 1.0) < 0.02
    assert np.abs(overlap - 1.0).max() < 0.05, f"sum ranges {overlap.min():.3f}..{overlap.max():.3f}"
    assert linear["left"][:, :150].min() > 0.99 and linear["right"][:, 50:].min() > 0.99
    assert linear["left"][:, 165:].max() < 0.99, "the left output fades in the overlap"


def test_pixels_inside_a_mask_are_exactly_black(display, tmp_path):
    poly = [[0.2, 0.2], [0.6, 0.25], [0.5, 0.7], [0.25, 0.6]]
    shots = run(tmp_path, f"[[output]]\nname = 'm'\nsize = [200, 150]\n"
                          f"mask = [{{ points = {poly}, feather = 0.05 }}]\n", pattern="white")
    image = shots["m"][..., :3]
    inside = inside_polygon(poly, (200, 150))
    assert inside.sum() > 1000
    assert image[inside].max() == 0, "inside the mask is exactly black"
    assert image[:10].min() == 255 and image[:, -10:].min() == 255, "far outside stays white"
    below = image[int(0.72 * 150), 100]  # 0.02 under the bottom corner: within the feather
    assert below.min() > 0 and below.max() < 255, below


def test_a_wall_of_regions_joins_into_the_whole_canvas(display, tmp_path):
    text = """
[show]
canvas = [256, 128]
[[output]]
name = "left"
monitor = 0
size = [128, 128]
region = [0, 0, 128, 128]
[[output]]
name = "right"
monitor = 1
size = [128, 128]
region = [128, 0, 128, 128]
[[output]]
name = "whole"
monitor = 0
size = [256, 128]
region = [0, 0, 256, 128]
"""
    views = {}

    def count(state):
        views["n"] = len(state.stage._views)

    shots = run(tmp_path, text, frames=4, on_frame=count)
    assert views["n"] == 3
    joined = np.concatenate([shots["left"], shots["right"]], axis=1)[..., :3].astype(int)
    whole = shots["whole"][..., :3].astype(int)
    assert whole.mean() > 2, "the canvas shows the tapestry"
    close = (np.abs(joined - whole).max(axis=-1) <= 2).mean()
    assert close >= 0.999, f"only {close:.4%} of pixels within 2 levels"


def test_outputs_showing_the_same_view_share_one_render(display, tmp_path):
    views = {}

    def count(state):
        views["n"] = len(state.stage._views)

    shots = run(tmp_path, "[[output]]\nname = 'a'\nsize = [160, 120]\n"
                          "[[output]]\nname = 'b'\nmonitor = 1\nsize = [160, 120]\nbrightness = 0.5\n",
                on_frame=count)
    assert views["n"] == 1
    a, b = shots["a"][..., :3].astype(float), shots["b"][..., :3].astype(float)
    lit = a > 40
    assert np.allclose(b[lit], a[lit] * 0.5, atol=2.0), "the same frame, half as bright"


def test_calibration_moves_corners_and_saves_them_keeping_comments(display, tmp_path):
    text = ("# Hall B\n[show]\ncanvas = [320, 240]  # one projector\n\n# on the truss\n[[output]]\n"
            "name = \"front\"  # the front projector\nsize = [320, 240]\n"
            "corners = [[0, 0], [1, 0], [1, 1], [0, 1]]  # pinned on site\n")

    def steer(state):
        cal, out = state.calibrator, state.outputs[0]
        if state.frame == 1:
            cal.key(out, glfw.KEY_C, 0) or cal.toggle()
        elif state.frame == 2:
            cal.key(out, glfw.KEY_RIGHT, 0)  # corner 0 right by a step
        elif state.frame == 3:
            cal.key(out, glfw.KEY_DOWN, glfw.MOD_SHIFT)  # and down by a fine step
        elif state.frame == 4:  # drag the bottom-right corner with the mouse
            cal.mouse(out, "press", 0.98, 0.99)
            cal.mouse(out, "move", 0.9, 0.95)
            cal.mouse(out, "release", 0.9, 0.95)
        elif state.frame == 5:
            assert cal.key(out, glfw.KEY_S, 0)
            return True
        return None

    run(tmp_path, text, frames=99, pattern="grid", on_frame=steer)
    saved = load_venue(tmp_path / "venue.toml")
    c = saved.outputs[0].corners
    assert c[0] == pytest.approx((STEP, FINE)) and c[2] == pytest.approx((0.9, 0.95))
    assert c[1] == (1.0, 0.0) and c[3] == (0.0, 1.0)
    new = (tmp_path / "venue.toml").read_text()
    for comment in ("# Hall B", "# one projector", "# on the truss", "# the front projector",
                    "# pinned on site"):
        assert comment in new


def test_screenshots_per_output_from_the_command_line(display, tmp_path):
    shots = tmp_path / "shots"
    # the grid pattern: lit from the first frame, whatever the wall clock let the scene do in 3 frames
    res = run_cli("show", "symphony", "--venue", "assets/venues/two_projectors.toml", "--frames", "3",
                  "--no-vsync", "--pattern", "grid", "--screenshot", str(shots), env={"DISPLAY": display})
    assert res.returncode == 0, res.stderr
    left, right = load_png(shots / "left.png"), load_png(shots / "right.png")
    assert left.shape == (480, 640, 4) and right.shape == (300, 400, 4)
    assert left[..., :3].mean() > 1 and right[..., :3].mean() > 1


def test_bad_venue_is_one_line_before_any_window(display, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[output]]\nname = 'a'\nmonitor = 5\n")
    res = run_cli("show", "symphony", "--venue", str(bad), "--frames", "1", env={"DISPLAY": display})
    assert res.returncode == 2
    assert res.stderr.strip() == ("symphony: error: bad.toml: output[0].monitor: monitor 5 does not exist "
                                  "(monitors: 0..1; see 'symphony list')")


def test_list_shows_both_monitors(display):
    res = run_cli("list", env={"DISPLAY": display})
    monitors = res.stdout.split("monitors:")[1].split("sources:")[0]
    assert "0: DUMMY0 640x480 @" in monitors and "at (0, 0)" in monitors
    assert "1: DUMMY1 400x300 @" in monitors and "at (640, 0)" in monitors


def test_fullscreen_screenshot_reads_the_real_framebuffer(display, tmp_path):
    shot = tmp_path / "full.png"
    res = run_cli("show", "symphony", "--fullscreen", "--frames", "3", "--no-vsync",
                  "--screenshot", str(shot), env={"DISPLAY": display})
    assert res.returncode == 0, res.stderr
    assert load_png(shot).shape == (480, 640, 4)


def test_an_unplugged_monitor_moves_its_output_and_it_returns(display, tmp_path):
    log = []

    def steer(state):
        right = state.output("right")
        if state.frame == 2:
            assert xrandr(display, "--output", "DUMMY1", "--off").returncode == 0
        elif state.frame > 2 and "moved" not in log and state.hotplug.events:
            log.append("moved")
            x, y = right.position
            assert 0 <= x < 640 and not right.fullscreen, (x, y)
        elif "moved" in log and "plugged" not in log:
            enable_dummy_monitor(display, 1)
            log.append("plugged")
        elif "plugged" in log and any("is back" in e for e in state.hotplug.events):
            log.append((right.position, right.framebuffer_size, right.fullscreen))
            return True
        if state.frame > 200:
            return True
        time.sleep(0.02)
        return None

    try:
        run(tmp_path, "[[output]]\nname = 'left'\nmonitor = 0\nfullscreen = true\n"
                      "[[output]]\nname = 'right'\nmonitor = 1\nfullscreen = true\n", frames=999,
            pattern="grid", on_frame=steer)
    finally:
        enable_dummy_monitor(display, 1)
    assert log[:2] == ["moved", "plugged"], log
    position, size, fullscreen = log[2]
    assert fullscreen and position == (640, 0), log


class Preview:
    """A companion window (as an operator console would be): its own context, sharing the
    stage's objects, showing output a's view through an identity mapping."""

    def __init__(self, stage) -> None:
        import moderngl

        from engine.outputs.mapped import gl_hints
        from engine.outputs.mapping_pass import MappingPass
        from engine.venue.config import OutputSpec

        gl_hints(visible=True)
        self.handle = glfw.create_window(160, 120, "preview", None, stage.handle)
        glfw.make_context_current(self.handle)
        self.ctx = moderngl.create_context(require=330)
        self.mapping = MappingPass(self.ctx, OutputSpec("preview"))
        self.should_close = False
        self.pixels = None

    def draw(self, state) -> None:
        glfw.make_context_current(self.handle)
        self.mapping.draw(self.ctx.screen, glfw.get_framebuffer_size(self.handle), state.views["a"])
        data = self.ctx.screen.read(viewport=(0, 0, 160, 120), components=4)
        self.pixels = np.frombuffer(data, np.uint8).reshape(120, 160, 4)[::-1]

    def swap(self) -> None:
        glfw.swap_buffers(self.handle)

    def close(self) -> None:
        glfw.destroy_window(self.handle)


def test_a_companion_window_shares_the_views(display, tmp_path):
    previews = []

    def make(stage):
        previews.append(Preview(stage))
        return previews

    path = tmp_path / "venue.toml"
    path.write_text("[[output]]\nname = 'a'\nsize = [160, 120]\n")
    shots = {}

    def look(state):
        if state.frame == 3:
            shots["a"] = state.pixels("a")
            return True
        return None

    run_venue_show(path, "symphony", vsync=False, on_frame=look, companions=make)
    preview = previews[0].pixels[..., :3]
    assert preview.mean() > 2
    assert np.array_equal(preview, shots["a"][..., :3])


def test_a_plain_show_can_draw_a_calibration_pattern(display, tmp_path):
    shot = tmp_path / "grid.png"
    res = run_cli("show", "symphony", "--pattern", "grid", "--size", "160x120", "--frames", "2",
                  "--no-vsync", "--screenshot", str(shot), env={"DISPLAY": display})
    assert res.returncode == 0, res.stderr
    image = load_png(shot)[..., 0]
    assert image.shape == (120, 160)
    columns = image.mean(axis=0)
    lit = np.flatnonzero(columns > 100)
    # square cells an eighth of the height (15 px), a line through the centre (x = 80)
    assert all(np.abs(lit - (80 + 15 * k - 0.5)).min() <= 1 for k in range(-5, 6)), lit


def test_key_p_shows_the_grid_in_the_single_window_show(display):
    from engine.live import run_show

    seen = {}

    def steer(state):
        if state.frame == 1:
            seen["scene"] = state.pixels()
            state.window._on_key(state.window.handle, glfw.KEY_P, 0, glfw.PRESS, 0)  # as GLFW calls it
        elif state.frame == 2:
            seen["grid"] = state.pixels()
            return True
        return None

    run_show("symphony", size=(160, 120), vsync=False, on_frame=steer)
    grid = seen["grid"][24:-24, :, 0]  # between the HUD's status and error lines
    assert np.maximum(grid[:, 79], grid[:, 80]).min() > 100, "a line through the centre"
    assert (grid == 0).mean() > 0.7, "black between the lines"
    assert not np.array_equal(seen["scene"], seen["grid"])


def test_calibration_edits_a_mesh_and_saves_it(display, tmp_path):
    text = "# one screen\n[[output]]\nname = \"curved\"  # a curved scrim\nsize = [200, 150]\n"

    def steer(state):
        out = state.outputs[0]
        keys = {1: [glfw.KEY_C], 2: [glfw.KEY_M], 3: [glfw.KEY_SPACE] * 4,
                4: [glfw.KEY_RIGHT, glfw.KEY_RIGHT], 5: [glfw.KEY_S]}
        for key in keys.get(state.frame, []):
            out._key(out.handle, key, 0, glfw.PRESS, 0)  # as GLFW calls it
        return state.frame >= 6

    run(tmp_path, text, frames=99, pattern="grid", on_frame=steer)
    mesh = load_venue(tmp_path / "venue.toml").outputs[0].mesh
    assert mesh is not None and len(mesh) == 3 and len(mesh[0]) == 3
    assert mesh[1][1] == pytest.approx((0.5 + 2 * STEP, 0.5))
    assert mesh[0][0] == (0.0, 0.0) and mesh[2][2] == (1.0, 1.0)
    assert "# a curved scrim" in (tmp_path / "venue.toml").read_text()
