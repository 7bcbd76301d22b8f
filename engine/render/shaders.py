"""GLSL files with `#include` and `#define`, compiled into ModernGL programs.

A shader is one `.glsl` file holding every stage, each inside `#ifdef VERTEX_SHADER`,
`GEOMETRY_SHADER` or `FRAGMENT_SHADER` (the moderngl-window convention). `#include "x.glsl"`
pastes a chunk from the shader folder; every piece is tagged with a `#line` directive whose
source number identifies its file, so compiler messages are reported as `file:line`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import moderngl

from engine.paths import shader_dir

GLSL_VERSION = "#version 330 core"
STAGES = {
    "vertex_shader": "VERTEX_SHADER",
    "geometry_shader": "GEOMETRY_SHADER",
    "fragment_shader": "FRAGMENT_SHADER",
}
_INCLUDE = re.compile(r'^\s*#include\s+"([^"]+)"\s*$')
_MESSAGE = re.compile(r"(?m)^\s*(\d+):(\d+)\(\d+\):\s*(.*)$")


class ShaderError(RuntimeError):
    """A shader that cannot be built; the message names the original file and line."""


@dataclass
class Source:
    text: str
    files: list[Path] = field(default_factory=list)  # index = GLSL source-string number


def expand(path: Path, root: Path, files: list[Path] | None = None,
           stack: tuple[Path, ...] = ()) -> Source:
    """Resolve #includes recursively; include cycles are an error, not a hang."""
    files = [] if files is None else files
    path = path.resolve()
    if path in stack:
        chain = " -> ".join(p.name for p in (*stack, path))
        raise ShaderError(f"{path.name}: include cycle: {chain}")
    if not path.is_file():
        where = f" (included from {stack[-1].name})" if stack else ""
        raise ShaderError(f"{path.name}: shader file not found{where}")
    files.append(path)
    number = len(files) - 1
    out = [f"#line 1 {number}"]
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        m = _INCLUDE.match(line)
        if m:
            out.append(expand(root / m.group(1), root, files, (*stack, path)).text)
            out.append(f"#line {lineno + 1} {number}")
        else:
            out.append(line)
    return Source("\n".join(out), files)


def stage_sources(name: str, defines: dict[str, object] | None = None,
                  root: Path | None = None) -> tuple[dict[str, str], list[Path]]:
    """The per-stage GLSL for one shader file, and the files it was built from."""
    root = root or shader_dir()
    src = expand(root / name, root)
    header = [GLSL_VERSION] + [f"#define {k} {v}" for k, v in (defines or {}).items()]
    stages = {}
    for key, macro in STAGES.items():
        if re.search(rf"#if(def)?\s+(defined\()?{macro}\b", src.text):
            stages[key] = "\n".join([*header, f"#define {macro} 1", src.text])
    if "vertex_shader" not in stages:
        raise ShaderError(f"{name}: no VERTEX_SHADER section")
    return stages, src.files


def describe_error(message: str, files: list[Path]) -> str:
    """Rewrite `0:12(3): error: ...` compiler lines as `file.glsl:12: error: ...`."""
    lines = []
    for number, line, text in _MESSAGE.findall(message):
        n = int(number)
        name = files[n].name if n < len(files) else f"source {n}"
        lines.append(f"{name}:{line}: {text.strip()}")
    return "\n".join(lines) if lines else message.strip()


def build_program(ctx: moderngl.Context, name: str, defines: dict[str, object] | None = None,
                  root: Path | None = None) -> tuple[moderngl.Program, list[Path]]:
    stages, files = stage_sources(name, defines, root)
    try:
        return ctx.program(**stages), files
    except moderngl.Error as exc:
        raise ShaderError(f"{name} failed to build:\n{describe_error(str(exc), files)}") from None


class ProgramHandle:
    """A program that can be rebuilt when its files change, keeping the last good build.

    Users read `program` each frame and rebuild whatever they bound to it (vertex arrays)
    when `version` changes. A failed rebuild leaves `program` as it was and sets `error`.
    """

    def __init__(self, ctx: moderngl.Context, name: str, defines: dict[str, object] | None,
                 root: Path | None) -> None:
        self.ctx, self.name, self.defines, self.root = ctx, name, dict(defines or {}), root
        self.program, self.files = build_program(ctx, name, self.defines, root)
        self.mtimes = self._mtimes()
        self.version = 0
        self.error: str | None = None

    def _mtimes(self) -> list[float]:
        out = []
        for f in self.files:
            try:
                out.append(f.stat().st_mtime_ns)
            except OSError:
                out.append(-1)
        return out

    def changed(self) -> bool:
        return self._mtimes() != self.mtimes

    def reload(self) -> bool:
        """Rebuild from the files; on failure keep the running program. True if rebuilt."""
        self.mtimes = self._mtimes()
        try:
            program, files = build_program(self.ctx, self.name, self.defines, self.root)
        except (ShaderError, OSError) as exc:
            self.error = str(exc)
            return False
        old, self.program, self.files = self.program, program, files
        self.mtimes = self._mtimes()
        old.release()
        self.version += 1
        self.error = None
        return True


class ShaderCache:
    """One `ProgramHandle` per (file, defines), and a poll that reloads edited shaders."""

    def __init__(self, ctx: moderngl.Context, root: Path | None = None) -> None:
        self.ctx, self.root = ctx, root
        self._handles: dict[tuple, ProgramHandle] = {}

    def get(self, name: str, defines: dict[str, object] | None = None) -> ProgramHandle:
        key = (name, tuple(sorted((defines or {}).items())))
        handle = self._handles.get(key)
        if handle is None:
            handle = self._handles[key] = ProgramHandle(self.ctx, name, defines, self.root)
        return handle

    def reload_changed(self) -> list[str]:
        """Rebuild every program whose files changed; returns the current errors."""
        for handle in self._handles.values():
            if handle.changed():
                handle.reload()
        return [h.error for h in self._handles.values() if h.error]


class BoundVao:
    """A vertex array that follows its program's reloads."""

    def __init__(self, handle: ProgramHandle, content: list, **kwargs) -> None:
        self.handle, self.content, self.kwargs = handle, content, kwargs
        self._version = -1
        self._vao: moderngl.VertexArray | None = None

    @property
    def program(self) -> moderngl.Program:
        return self.handle.program

    def get(self) -> moderngl.VertexArray:
        if self._version != self.handle.version:
            if self._vao is not None:
                self._vao.release()
            self._vao = self.handle.ctx.vertex_array(self.handle.program, self.content, **self.kwargs)
            self._version = self.handle.version
        return self._vao
