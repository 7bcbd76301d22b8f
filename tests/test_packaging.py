"""The wheel carries shaders, scenes and assets, so an installed engine works from any folder."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from tests.conftest import ROOT


def test_wheel_ships_shaders_and_scenes(tmp_path):
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shader in (ROOT / "shaders").rglob("*.glsl"):
        assert f"engine/_data/shaders/{shader.relative_to(ROOT / 'shaders').as_posix()}" in names
    assert "engine/_data/scenes/symphony.py" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    # Test fixtures stay in tests/: the numpy reference solver is not shipped.
    assert "engine/solver/reference.py" not in names


def test_wheel_ships_the_starter_template(tmp_path):
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    (wheel,) = tmp_path.glob("*.whl")
    assert any(n.startswith("engine/templates/") for n in zipfile.ZipFile(wheel).namelist())


def test_readme_scene_example_renders(tmp_path):
    """The README's example scene must keep working as written."""
    import re

    from engine.offline import render_array

    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    path = tmp_path / "quiet.py"
    path.write_text(code)
    frames = render_array(str(path), 6, size=(160, 90))
    assert frames[..., :3].mean() > 2.0
    assert frames[0].tobytes() != frames[-1].tobytes()
