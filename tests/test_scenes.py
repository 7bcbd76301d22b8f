"""Every scene in scenes/ renders headless, from the synthetic Alcove and from a replayed real
recording, without error and with lit, moving pictures; `new` writes a starter that renders;
and the small engine additions the scenes stand on (layer placement, synthetic Alcoves)."""

from __future__ import annotations

import ast
import bz2
from pathlib import Path

import numpy as np
import pytest

from engine.clock import FixedClock
from engine.layers import StrandLayer
from engine.offline import render_array
from engine.paths import scene_dir
from engine.reload import carry_state
from engine.runtime import Show
from engine.scene import all_layers, create_scene, list_scenes, load_scene_class
from engine.solver import StrandSolver
from engine.sources import open_source
from tests.conftest import SHARED_DATA, run_cli
from tests.real_data import mitbih208_ecg

SCENES = list_scenes()
SIZE, FPS, FRAMES = (160, 90), 10.0, 30  # 3 s: quick, and long enough for breath and beats
PYPHYSIO = SHARED_DATA / "pyphysio_medical_ecg_eda_bvp_resp_2048hz.txt.bz2"


def assert_alive(frames: np.ndarray) -> None:
    """Lit (not black), with some bright pixels, and changing over time."""
    rgb = frames[..., :3].astype(np.float32)
    assert np.isfinite(rgb).all()
    assert rgb.mean() > 1.0, f"the picture is nearly black (mean {rgb.mean():.2f})"
    assert (rgb.max(axis=-1) > 40).mean() > 0.005, "nothing glows"
    late, early = rgb[-1], rgb[len(rgb) // 3]
    assert np.abs(late - early).mean() > 0.3, "the picture does not move"


def _csv(path: Path, t: np.ndarray, columns: dict[str, np.ndarray]) -> str:
    np.savetxt(path, np.column_stack([t, *columns.values()]), delimiter=",",
               header=",".join(["time", *columns]), comments="", fmt="%.6g")
    return f"replay:{path}"


@pytest.fixture(scope="module", params=["mitbih208", "pyphysio"])
def real_recording(request, tmp_path_factory) -> str:
    """A CSV replay of four participants cut from a real recording, each 20-25 s further in.
    mitbih208: the ECG excerpt shipped in tests/data (runs anywhere). pyphysio: ECG, EDA, PPG
    and respiration at 2048 Hz, decimated to 256 Hz, where ../shared/data has it; made per run
    in a temporary folder, so the GPL file itself never enters the repository."""
    folder = tmp_path_factory.mktemp("replay")
    seconds = 5
    if request.param == "mitbih208":
        ecg, rows = mitbih208_ecg(), seconds * 360
        parts = {f"p{k:02d}/ecg": ecg[k * 20 * 360:][:rows] for k in range(4)}
        return _csv(folder / "mitbih208_four.csv", np.arange(rows) / 360.0, parts)
    if not PYPHYSIO.is_file():
        pytest.skip("the pyphysio recording (GPL, not shipped in tests/data) is absent: ../shared/data")
    with bz2.open(PYPHYSIO, "rt") as f:
        data = np.loadtxt(f, max_rows=(3 * 25 + 5) * 2048)
    step = 8
    rows = seconds * 2048 // step
    columns = {}
    for k in range(4):
        part = data[k * 25 * 2048::step][:rows]
        for c, channel in enumerate(("ecg", "eda", "ppg", "respiration")):
            columns[f"p{k:02d}/{channel}"] = part[:, c]
    return _csv(folder / "pyphysio_four.csv", np.arange(rows) * step / 2048.0, columns)


def test_the_five_scenes_are_there():
    assert {"symphony", "microbiome_workshop", "chorus_alcove", "wellness_network",
            "tapestry"} <= set(SCENES)


@pytest.mark.parametrize("scene", SCENES)
def test_scene_is_documented(scene):
    path = scene_dir() / f"{scene}.py"
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert "Channels:" in doc, "the docstring says which channels the scene uses"
    cls = load_scene_class(scene)
    assert cls.title != "Untitled scene" and cls.params(), "a title and declared parameters"


# how each scene looks from its synthetic source: tests/test_pictures.py


@pytest.mark.parametrize("scene", SCENES)
def test_scene_renders_from_a_real_recording(scene, real_recording):
    assert_alive(render_array(scene, FRAMES, SIZE, FPS, source=real_recording))


def test_tapestry_keeps_its_cloth_across_a_live_reload():
    """The record of a session must survive an edit: stitches and their threads' colours."""
    scene = create_scene("tapestry")
    show = Show(scene, open_source("synthetic:participants=4"), FixedClock(10))
    for _ in range(40):
        show.advance()
    p = scene.cloth
    born = (p.spawns > 1) & (p.fade > 0)
    assert born.sum() > 100 and set(np.unique(p.owner[born])) == {0, 1, 2, 3}
    fresh = create_scene("tapestry")
    assert {"loom", "cloth"} <= set(carry_state(scene, fresh))
    show.scene = fresh
    show.advance()
    q = fresh.cloth
    # particles are re-sorted in blocks as they move, so find each stitch by its identity
    # (thread, rebirth count, tint) rather than by its slot
    now = {(o, c, t): x for o, c, t, x in zip(q.owner.tolist(), q.spawns.tolist(), q.tint.tolist(),
                                              q.x.tolist(), strict=True)}
    was = zip(p.owner[born].tolist(), p.spawns[born].tolist(), p.tint[born].tolist(),
              p.x[born].tolist(), strict=True)
    drift = [abs(now[(o, c, t)] - x) for o, c, t, x in was]
    assert max(drift) < 1e-3  # every stitch is still there and barely drifted
    assert fresh.loom.active[:4].all() and fresh.loom.color[:4].max() > 0.1


# -- the guide's worked examples: each is a picture test in tests/test_pictures.py ----------------


# -- run_symphony.py new -----------------------------------------------------------------------
def test_new_writes_a_starter_that_renders_and_never_overwrites(tmp_path):
    res = run_cli("new", "morning_tide", "--dir", str(tmp_path))
    assert res.returncode == 0, res.stderr
    path = tmp_path / "morning_tide.py"
    code = path.read_text()
    assert "class MorningTide(Scene)" in code and 'title = "Morning tide"' in code
    assert_alive(render_array(str(path), 20, SIZE, FPS))
    path.write_text(code + "# mine\n")
    again = run_cli("new", "morning_tide", "--dir", str(tmp_path))
    assert again.returncode != 0 and "already exists" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert path.read_text().endswith("# mine\n"), "the artist's file is untouched"


@pytest.mark.parametrize("name", ["9lives", "my-scene", "class", "_hidden", "a.b"])
def test_new_rejects_names_that_are_not_identifiers(tmp_path, name):
    res = run_cli("new", name, "--dir", str(tmp_path))
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "identifier" in res.stderr
    assert not any(tmp_path.iterdir())


# -- engine additions the scenes use ------------------------------------------------------------
def test_strand_layer_placement_is_a_rigid_motion():
    """origin/axis move a layer (wellness_network's Alcoves, its threads, tapestry's loom)
    without changing its strands: same shapes, moved and turned."""
    upright = StrandSolver(3, 4, 16, seed=1)
    moved = StrandSolver(3, 4, 16, seed=1, origin=(2.0, 1.0, -1.0))
    lying = StrandSolver(3, 4, 16, seed=1, origin=(2.0, 1.0, -1.0), axis=(1.0, 0.0, 0.0))
    for _ in range(20):
        for s in (upright, moved, lying):
            s.step(1 / 30)
    np.testing.assert_allclose(moved.x, upright.x + 2.0, atol=1e-4)
    np.testing.assert_allclose(moved.y, upright.y + 1.0, atol=1e-4)
    np.testing.assert_allclose(moved.z, upright.z - 1.0, atol=1e-4)
    # lying along +x: the upright layer turned (+y → +x) and moved, roots at x = 2 - height/2
    turned = lying.placement() @ np.stack((upright.x, upright.y, upright.z))
    np.testing.assert_allclose(lying.x, turned[0] + 2.0, atol=1e-3)
    np.testing.assert_allclose(lying.y, turned[1] + 1.0, atol=1e-3)
    np.testing.assert_allclose(lying.z, turned[2] - 1.0, atol=1e-3)
    np.testing.assert_allclose(lying.x[:lying.strands], 2.0 - lying.height / 2, atol=1e-4)


def test_synthetic_alcoves_tag_participants():
    src = open_source("synthetic:participants=6,alcoves=3")
    chunks, _ = src.poll(1.0)
    tags = {c.participant: c.alcove for c in chunks}
    assert tags == {"p00": "a1", "p01": "a1", "p02": "a2", "p03": "a2", "p04": "a3", "p05": "a3"}
    plain, _ = open_source("synthetic:participants=6").poll(1.0)
    assert {c.alcove for c in plain} == {""}, "without alcoves= chunks stay untagged"


def test_wellness_network_keeps_its_strands_across_a_live_reload():
    """Its layers live in a list and a dict, not named attributes, and it draws only some of
    them: reload matches them by their place among the layers it added, so every crown and
    thread keeps its shape, and the flow its state."""
    scene = create_scene("wellness_network")
    show = Show(scene, open_source("synthetic:alcoves=3,participants=9"), FixedClock(10))
    for _ in range(30):
        show.advance()
    fresh = create_scene("wellness_network")
    assert 0 < len(scene.layers) < len(all_layers(scene))  # some crowns are not drawn now
    setup_shapes = [la._solver.x.copy() for la in all_layers(fresh) if isinstance(la, StrandLayer)]
    kept = carry_state(scene, fresh)
    assert "field" in kept and len(kept) == len(all_layers(scene)) + 1
    assert not any(name in vars(fresh) for name in kept if name != "field")  # none by attribute
    for old, new in zip(all_layers(scene), all_layers(fresh), strict=True):
        for name in ("x", "y", "z", "age"):
            if hasattr(old._solver, name):
                np.testing.assert_array_equal(getattr(new._solver, name), getattr(old._solver, name))
    running = [la._solver.x for la in all_layers(scene) if isinstance(la, StrandLayer)]
    # the running crowns had moved away from a fresh setup's shapes: the copy carried something
    assert sum(not np.array_equal(a, b) for a, b in zip(running, setup_shapes, strict=True)) > 0
    np.testing.assert_array_equal(fresh.field.grid, scene.field.grid)
