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
