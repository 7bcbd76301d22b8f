"""Venue files and mapping geometry, without a display: every key read, every bad file a one-line
error naming the file and the key, the calibration write-back keeping comments, and the mapping
mathematics (homography, mesh interpolation, soft-edge ramps) the GPU tests compare against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.paths import asset_dir
from engine.venue import PERFORM_SECTIONS, VenueError, load_venue
from engine.venue.config import resolve_monitor
from engine.venue.mapping import (
    IDENTITY_CORNERS,
    apply,
    blend_ramp,
    corner_homography,
    forward,
    mesh_eval,
    regular_mesh,
)
from engine.venue.stage import guarded, region_projection
from engine.venue.writeback import save_mapping

VENUES = asset_dir() / "venues"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "venue.toml"
    path.write_text(text)
    return path


def test_the_example_venues_load_and_use_every_key():
    two = load_venue(VENUES / "two_projectors.toml")
    assert [o.name for o in two.outputs] == ["left", "right"]
    assert two.canvas and two.outputs[0].region and two.outputs[0].blend.right > 0
    assert two.outputs[1].blend.left > 0 and two.outputs[0].warped
    used = {k for o in two.raw["output"] for k in o} | set(two.raw["show"])
    from engine.venue.config import OUTPUT_KEYS, SHOW_KEYS
    assert used >= set(OUTPUT_KEYS) | set(SHOW_KEYS), "the documented example shows every key"
    mixed = load_venue(VENUES / "pyramid_and_projector.toml")
    assert {o.layout.split(":")[0] for o in mixed.outputs} == {"pyramid", "flat"}


def test_perform_sections_are_kept_for_perform_mode(tmp_path):
    venue = load_venue(write(tmp_path, """
[console]
monitor = 0
[control]
osc_port = 9000
[[cue]]
name = "one"
[failover]
x = 1
[[output]]
name = "a"
"""))
    assert all(s in venue.raw for s in PERFORM_SECTIONS)


A = "[[output]]\nname = 'a'\n"  # the smallest valid output


@pytest.mark.parametrize("text, message", [
    (A + "bogus = 1\n", "output[0].bogus: unknown key"),
    ("[show]\nfoo = 1\n[[output]]\nname='a'\n", "show.foo: unknown key"),
    ("[lights]\n[[output]]\nname='a'\n", "lights: unknown key"),
    (A + "fullscreen = 'yes'\n", "output[0].fullscreen: expected true or false"),
    (A + "size = [640]\n", "output[0].size: expected 2 whole numbers"),
    (A + "corners = [[0, 0], [1, 1], [1, 0], [0, 1]]\n", "output[0].corners: the corners fold"),
    (A + "corners = [[0, 0], [0, 1], [1, 1], [1, 0]]\n", "output[0].corners: the corners are mirrored"),
    ("[show]\ncanvas = [100, 100]\n[[output]]\nname = 'a'\nregion = [50, 0, 60, 100]\n",
     "output[0].region: region [50, 0, 60, 100] reaches outside the canvas 100x100"),
    (A + "region = [0, 0, 60, 100]\n", "output[0].region: a region needs [show] canvas"),
    (A + "layout = 'cube'\n", "output[0].layout: unknown layout 'cube'"),
    (A + "mesh = [[[0, 0], [1, 0]], [[0, 1], [1, 1]]]\n", "output[0].mesh: expected rows"),
    (A + "mesh = [[[0,0],[0.5,0],[1,0]],[[0,0.5],[0.5,0.5],[1,0.5]],"
     "[[0,1],[1.5,1],[1,1]]]\n",
     "output[0].mesh: the mesh folds"),
    (A + "blend = { right = 0.6, left = 0.6 }\n", "output[0].blend: opposite edges"),
    (A + "blend = { width = 0.2 }\n", "output[0].blend.width: unknown key"),
    (A + "mask = [{ points = [[0, 0], [1, 0]] }]\n", "output[0].mask[0].points: expected a polygon"),
    (A + "gamma = 0\n", "output[0].gamma: 0 is out of range"),
    (A + A, "output[1].name: 'a' is used twice"),
    ("[show]\nscene = 'x'\n", "output: expected one or more [[output]]"),
    ("[[output]\nname = 'a'\n", "not valid TOML"),
])
def test_bad_venue_files_give_one_line_naming_file_and_key(tmp_path, text, message):
    with pytest.raises(VenueError) as info:
        load_venue(write(tmp_path, text))
    text = str(info.value)
    assert text.startswith("venue.toml: ") and message in text, text
    assert "\n" not in text


def test_monitors_are_checked_by_index_and_name(tmp_path):
    venue = load_venue(write(tmp_path, "[[output]]\nname='a'\nmonitor=3\n"
                                       "[[output]]\nname='b'\nmonitor='HDMI-2'\n"))
    found = [{"index": 0, "name": "DUMMY0"}, {"index": 1, "name": "HDMI-2"}]
    with pytest.raises(VenueError, match=r"venue.toml: output\[0\].monitor: monitor 3 does not exist"):
        resolve_monitor(venue, venue.outputs[0], found)
    assert resolve_monitor(venue, venue.outputs[1], found) == 1
    with pytest.raises(VenueError, match="no monitor named 'HDMI-2'"):
        resolve_monitor(venue, venue.outputs[1], found[:1])


def test_calibration_write_back_changes_corners_and_keeps_comments(tmp_path):
    text = ("# Hall B, spring tour\n[show]\ncanvas = [200, 100]  # two projectors\n\n"
            "# the left projector, on the truss\n[[output]]\nname = \"left\"\n"
            "corners = [[0, 0], [1, 0], [1, 1], [0, 1]]  # pinned on site\nregion = [0, 0, 120, 100]\n\n"
            "[[output]]\nname = \"right\"  # stage right\nregion = [80, 0, 120, 100]\n")
    path = write(tmp_path, text)
    venue = load_venue(path)
    spec = venue.outputs[0]
    spec.corners = [(0.02, 0.01), (0.99, 0.0), (1.0, 1.0), (0.0, 0.97)]
    spec.mesh = regular_mesh(3, 3).tolist()
    save_mapping(path, spec)
    again = load_venue(path)
    assert again.outputs[0].corners == spec.corners
    assert again.outputs[0].mesh is not None and again.outputs[1].corners == list(IDENTITY_CORNERS)
    new = path.read_text()
    for line in text.splitlines():
        if "#" in line and "corners" not in line:
            assert line in new, f"lost: {line}"
    assert "# pinned on site" in new


# --- geometry ---------------------------------------------------------------------------------

def test_corner_homography_takes_the_square_to_the_corners():
    corners = [(0.1, 0.05), (0.95, 0.1), (0.9, 0.9), (0.05, 0.8)]
    h = corner_homography(corners)
    assert np.allclose(apply(h, np.array(IDENTITY_CORNERS)), corners)
    assert (h @ [0.5, 0.5, 1.0])[2] > 0


def test_mesh_passes_through_its_points_and_keeps_identity():
    grid = regular_mesh(4, 5)
    u, v = np.meshgrid(np.linspace(0, 1, 13), np.linspace(0, 1, 7))
    assert np.allclose(mesh_eval(grid, u, v), np.stack([u, v], -1))
    bent = grid.copy()
    bent[1, 2] += (0.05, -0.03)
    assert np.allclose(mesh_eval(bent, np.array(0.5), np.array(1 / 3)), bent[1, 2])
    # smooth: no kink where the spline crosses a cell boundary
    s = np.linspace(0.45, 0.55, 201)
    x = mesh_eval(bent, s, np.full_like(s, 1 / 3))[:, 1]
    assert np.abs(np.diff(x, 2)).max() < 1e-4


def test_forward_combines_mesh_then_corner_pin():
    corners = [(0.1, 0.0), (1.0, 0.1), (0.9, 1.0), (0.0, 0.9)]
    uv = np.array([[0.25, 0.75]])
    assert np.allclose(forward(corners, regular_mesh(3, 3), uv), apply(corner_homography(corners), uv))


def test_soft_edges_sum_to_one_in_linear_light():
    t = np.linspace(0, 1, 101)
    for p in (1.0, 2.0, 3.0):
        total = blend_ramp(t * 0.2, 0.2, p) + blend_ramp((1 - t) * 0.2, 0.2, p)
        assert np.allclose(total, 1.0)


def test_regions_tile_the_canvas_projection():
    from engine.camera import Camera

    proj = Camera().projection(2.0)
    left = region_projection(proj, (200, 100), (0, 0, 100, 100))
    point = np.array([0.3, 0.2, -1.0, 1.0])
    full = point @ proj
    part = point @ left
    # canvas x of the point, from the whole frustum and from the left half's
    x_full = (full[0] / full[3] + 1) / 2 * 200
    x_left = (part[0] / part[3] + 1) / 2 * 100
    assert x_full == pytest.approx(x_left, abs=1e-3)
    assert guarded((100, 0, 100, 100), (200, 100), 64) == (36, 0, 164, 100)
