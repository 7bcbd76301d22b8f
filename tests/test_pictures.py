"""Every shipped scene, every guide example and the README's is a picture test (pygfx's pattern).

Each renders 40 frames at 96×54 (10 fps, seed 3) from its synthetic source, its ritual
started part-way so the braid forms within the four seconds; frames 13, 26 and 39 side by
side are compared with `tests/reference/<kind>_<name>.png` within a tolerance.
On a mismatch the test writes the picture and an amplified difference next to each other and
says where. Regenerate the references on purpose (a look changed) with
`SYMPHONY_REGEN_REFERENCES=1 python3 -m pytest tests/test_pictures.py`. The references are
made on software GL (llvmpipe), whose drawing paths differ from a GPU's: elsewhere the
comparison is skipped (the pictures are still checked to be lit and moving).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from engine.offline import render_array
from engine.outputs.image import load_png, save_png
from engine.render import Renderer, headless_context
from engine.scene import list_scenes
from tests.conftest import ROOT

REFERENCE = Path(__file__).parent / "reference"
REGEN = os.environ.get("SYMPHONY_REGEN_REFERENCES") == "1"
SIZE, FPS, FRAMES, SEED = (96, 54), 10.0, 40, 3
PICKED = (13, 26, 39)  # early (apart), mid (the ritual braids them), late (braided)
# the ritual started a quarter of the way through its period, so four seconds show the braid
# (synchrony reads high from about 2 s; with the defaults it comes at 4-6 s: docs/scenes.md §4.4)
RITUAL = "sync_period=12,phase=0.25"
# the source that shows a scene's point: a glitchy feed, several Alcoves, a short session
SOURCES = {"microbiome_workshop": f"synthetic:participants=5,glitch=0.05,{RITUAL}",
           "wellness_network": f"synthetic:participants=12,alcoves=4,{RITUAL}",
           "static_bloom": f"synthetic:glitch=0.05,{RITUAL}"}


def guide_examples() -> dict[str, str]:
    """The complete scene files in docs/scenes.md (code blocks starting `# example: NAME.py`)."""
    text = (ROOT / "docs" / "scenes.md").read_text()
    return {name.removesuffix(".py"): code for name, code in
            re.findall(r"```python\n# example: (\w+\.py)\n(.*?)```", text, re.DOTALL)}


def readme_example() -> str:
    """The README's example scene (its first Python block)."""
    return re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)


PICTURES = ([("scene", name) for name in list_scenes()] + [("guide", n) for n in sorted(guide_examples())]
            + [("readme", "quiet")])


@pytest.fixture(scope="module")
def software_gl() -> bool:
    ctx = headless_context()
    try:
        return Renderer(ctx, (8, 8)).software
    finally:
        ctx.release()


def assert_alive(frames: np.ndarray) -> None:
    """Lit (not black), with some bright pixels, and changing over time."""
    rgb = frames[..., :3].astype(np.float32)
    assert rgb.mean() > 1.0, f"the picture is nearly black (mean {rgb.mean():.2f})"
    assert (rgb.max(axis=-1) > 40).mean() > 0.005, "nothing glows"
    assert np.abs(rgb[-1] - rgb[len(rgb) // 3]).mean() > 0.3, "the picture does not move"


def compare(image: np.ndarray, path: Path, out: Path) -> None:
    """Fail, writing the picture and its difference, unless `image` matches the reference."""
    expected = load_png(path)[..., :3]
    assert expected.shape == image.shape, f"{path.name}: reference is {expected.shape}"
    diff = np.abs(image.astype(np.int16) - expected.astype(np.int16))
    bad = (diff.max(axis=-1) > 32).mean()
    if diff.mean() > 1.5 or bad > 0.005:
        shown = out / f"{path.stem}.actual_vs_diff.png"
        save_png(shown, np.concatenate([image, np.clip(diff * 4, 0, 255).astype(np.uint8)]))
        pytest.fail(f"{path.name}: mean abs diff {diff.mean():.2f}, {bad:.2%} pixels off by > 32 "
                    f"(picture above, difference ×4 below: {shown}); if the change is meant, "
                    "regenerate with SYMPHONY_REGEN_REFERENCES=1")


@pytest.mark.parametrize(("kind", "name"), PICTURES, ids=[f"{k}:{n}" for k, n in PICTURES])
def test_picture(kind, name, tmp_path, software_gl):
    ref = name
    if kind != "scene":
        ref = str(tmp_path / f"{name}.py")
        Path(ref).write_text(guide_examples()[name] if kind == "guide" else readme_example())
    frames = render_array(ref, FRAMES, SIZE, FPS, source=SOURCES.get(name, f"synthetic:{RITUAL}"), seed=SEED)
    assert_alive(frames)
    image = np.concatenate([frames[i, :, :, :3] for i in PICKED], axis=1)
    path = REFERENCE / f"{kind}_{name}.png"
    if REGEN and software_gl:
        REFERENCE.mkdir(exist_ok=True)
        save_png(path, image)
    if not software_gl:
        pytest.skip("reference pictures are made on software GL; this GL draws other paths")
    if not path.is_file():
        pytest.fail(f"missing {path.name}: run with SYMPHONY_REGEN_REFERENCES=1 to create it")
    compare(image, path, tmp_path)


def test_every_reference_picture_belongs_to_a_scene_or_guide_example():
    made = {f"{kind}_{name}.png" for kind, name in PICTURES}
    kept = {p.name for kind in ("scene", "guide", "readme") for p in REFERENCE.glob(f"{kind}_*.png")}
    assert kept == made  # none missing, none left over from a renamed or removed example
    assert {"embers", "heartbeat_garden", "tide_pool", "static_bloom"} <= set(guide_examples())


def test_a_changed_look_fails_and_writes_the_difference(tmp_path):
    """The comparison itself can fail: a reference one grey level off passes, a moved
    highlight does not, and the failure leaves the picture and its difference behind."""
    image = np.zeros((20, 30, 3), np.uint8)
    image[5:10, 5:10] = 200
    save_png(tmp_path / "ref.png", np.clip(image.astype(int) + 1, 0, 255).astype(np.uint8))
    compare(image, tmp_path / "ref.png", tmp_path)  # within tolerance
    moved = np.roll(image, 8, axis=1)
    with pytest.raises(pytest.fail.Exception, match="pixels off by > 32"):
        compare(moved, tmp_path / "ref.png", tmp_path)
    written = load_png(tmp_path / "ref.actual_vs_diff.png")
    assert written.shape == (40, 30, 3) and written[20:].max() == 255
