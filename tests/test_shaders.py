"""Shader files: includes, defines, cycles, and errors reported against the original file."""

from __future__ import annotations

from pathlib import Path

import moderngl
import pytest

from engine.paths import shader_dir
from engine.render import ShaderError, build_program
from engine.render.shaders import stage_sources

SHADERS = sorted(p.name for p in shader_dir().glob("*.glsl"))


@pytest.fixture(scope="module")
def ctx():
    c = moderngl.create_standalone_context(backend="egl", require=330)
    yield c
    c.release()


@pytest.mark.parametrize("name", SHADERS)
def test_every_shipped_shader_builds(ctx, name):
    prog, files = build_program(ctx, name)
    assert files[0].name == name


def test_include_cycle_is_an_error(tmp_path: Path):
    (tmp_path / "a.glsl").write_text('#include "b.glsl"\n#ifdef VERTEX_SHADER\n#endif\n')
    (tmp_path / "b.glsl").write_text('#include "a.glsl"\n')
    with pytest.raises(ShaderError, match="include cycle: a.glsl -> b.glsl -> a.glsl"):
        stage_sources("a.glsl", root=tmp_path)


def test_compile_error_names_the_included_file_and_line(ctx, tmp_path: Path):
    (tmp_path / "chunk.glsl").write_text("// a chunk\nfloat broken() { return nope; }\n")
    (tmp_path / "main.glsl").write_text(
        '#include "chunk.glsl"\n#ifdef VERTEX_SHADER\nvoid main() { gl_Position = vec4(broken()); }\n'
        "#endif\n#ifdef FRAGMENT_SHADER\nout vec4 c;\nvoid main() { c = vec4(1.0); }\n#endif\n")
    with pytest.raises(ShaderError) as err:
        build_program(ctx, "main.glsl", root=tmp_path)
    assert "chunk.glsl:2:" in str(err.value)
    assert "nope" in str(err.value)


def test_defines_reach_the_source(tmp_path: Path):
    (tmp_path / "d.glsl").write_text("#ifdef VERTEX_SHADER\nvoid main() {}\n#endif\n")
    stages, _ = stage_sources("d.glsl", {"MAX_BUNDLES": 8}, root=tmp_path)
    assert "#define MAX_BUNDLES 8" in stages["vertex_shader"]
    assert set(stages) == {"vertex_shader"}
