"""Drawers for the layer data objects: buffers are created once and refilled each frame.

Each layer has a path that is fast on a real GPU and one that is fast on software GL, where
every GL point or line costs about 0.3 µs of set-up: particles as GL point sprites or a Numba
CPU splat; strands as geometry-shader ribbons or one-pixel lines that the CPU draws. The paths
look alike and are picked by the GL renderer unless a layer says otherwise. CPU paths
(`on_cpu`) `paint` into the renderer's float32 canvas instead of drawing through GL.
"""

from __future__ import annotations

import math

import moderngl
import numpy as np

from engine.layers import ParticleLayer, StrandLayer
from engine.render.cpu_lines import StrandRasterizer
from engine.render.shaders import BoundVao, ShaderCache
from engine.render.splat import Splatter

MAX_BUNDLES = 64


class _Palette:
    """Per-bundle colour uniforms, filled from preallocated arrays each frame."""

    def __init__(self) -> None:
        self.rgba = np.zeros((MAX_BUNDLES, 4), np.float32)
        self.alpha = np.zeros(MAX_BUNDLES, np.float32)

    def fill(self, color: np.ndarray, glow: np.ndarray, alpha: np.ndarray) -> None:
        n = min(len(color), MAX_BUNDLES)
        self.rgba[:n, :3] = color[:n]
        self.rgba[:n, 3] = glow[:n]
        self.alpha[:n] = alpha[:n]

    def upload(self, prog: moderngl.Program) -> None:
        prog["u_bundle_color"].write(self.rgba)
        prog["u_bundle_alpha"].write(self.alpha)


def _uniform(prog: moderngl.Program, name: str, value) -> None:
    """Set a uniform if the compiler kept it (unused uniforms are dropped)."""
    if name in prog:
        prog[name].value = value


def _set_camera(prog: moderngl.Program, view: np.ndarray, proj: np.ndarray, size: tuple[int, int]) -> None:
    prog["u_view"].write(view)
    prog["u_proj"].write(proj)
    _uniform(prog, "u_viewport", size)
    _uniform(prog, "u_pixel_scale", size[1] / 1080.0)


class StrandDrawer:
    """Ribbons from a geometry shader on a GPU; on software GL, one-pixel lines carrying the
    same light, drawn by the CPU ("cpu"; "lines" draws them through GL) — or as `layer.path`
    says."""

    def __init__(self, ctx: moderngl.Context, shaders: ShaderCache, layer: StrandLayer,
                 software: bool = False) -> None:
        s = layer._solver
        if s.bundles > MAX_BUNDLES:
            raise ValueError(f"at most {MAX_BUNDLES} bundles per strand layer")
        self.layer = layer
        self.software = software
        self.palette = _Palette()
        self.handle = shaders.get("strands.glsl", {"MAX_BUNDLES": MAX_BUNDLES})
        self.lines_handle = shaders.get("strands_lines.glsl", {"MAX_BUNDLES": MAX_BUNDLES})
        n, m = s.strands, s.points
        self.buffers = [ctx.buffer(reserve=n * m * 4) for _ in range(3)]
        j = np.arange(m - 1, dtype=np.int32)[:, None]
        i = np.arange(n, dtype=np.int32)[None, :]
        index = np.stack([j * n + i, (j + 1) * n + i], axis=-1).reshape(-1)
        self.index = ctx.buffer(index.astype(np.int32))
        names = ("in_x", "in_y", "in_z")
        content = [(b, "f", nm) for b, nm in zip(self.buffers, names, strict=True)]
        self.vao = BoundVao(self.handle, content, index_buffer=self.index, index_element_size=4)
        self.lines_vao = BoundVao(self.lines_handle, content, index_buffer=self.index,
                                  index_element_size=4)
        self.rasterizer = StrandRasterizer(n * m)

    @property
    def path(self) -> str:
        if self.layer.path in ("ribbons", "lines", "cpu"):
            return self.layer.path
        return "cpu" if self.software else "ribbons"

    @property
    def on_cpu(self) -> bool:
        return self.path == "cpu"

    def paint(self, image: np.ndarray, view: np.ndarray, proj: np.ndarray, size: tuple[int, int],
              clear: bool) -> None:
        """Add the strands' light into the CPU canvas (the "cpu" path)."""
        layer = self.layer
        self.rasterizer.paint(image, view, proj, layer._solver, self.palette.rgba, self.palette.alpha,
                              layer.width, size[1] / 1080.0, layer.intensity, layer.depth_fade,
                              clear)

    def upload(self) -> None:
        s = self.layer._solver
        for buf, arr in zip(self.buffers, (s.x, s.y, s.z), strict=True):
            buf.write(arr)
        self.palette.fill(self.layer.color, self.layer.glow, s.active)

    def draw(self, view: np.ndarray, proj: np.ndarray, size: tuple[int, int]) -> None:
        lines = self.path == "lines"
        layer, s = self.layer, self.layer._solver
        prog = (self.lines_handle if lines else self.handle).program
        _set_camera(prog, view, proj, size)
        self.palette.upload(prog)
        for name, value in (("u_strands", s.strands), ("u_points", s.points),
                            ("u_strands_per_bundle", s.strands_per_bundle), ("u_width", layer.width),
                            ("u_intensity", layer.intensity)):
            _uniform(prog, name, value)
        _uniform(prog, "u_rim", layer.rim)
        _uniform(prog, "u_depth_fade", layer.depth_fade)
        (self.lines_vao if lines else self.vao).get().render(moderngl.LINES)


class ParticleDrawer:
    """GL points on a GPU, CPU splat on software GL (or as `layer.path` says)."""

    def __init__(self, ctx: moderngl.Context, shaders: ShaderCache, layer: ParticleLayer,
                 software: bool = False) -> None:
        self.ctx = ctx
        self.layer = layer
        self.software = software
        self.palette = _Palette()
        self.handle = shaders.get("particles.glsl", {"MAX_BUNDLES": MAX_BUNDLES})
        p = layer._solver
        self.buffers = [ctx.buffer(reserve=p.count * 4) for _ in range(6)]
        names = ("in_x", "in_y", "in_z", "in_fade", "in_tint")
        content = [(b, "f", nm) for b, nm in zip(self.buffers[:5], names, strict=True)]
        content.append((self.buffers[5], "i", "in_owner"))
        self.vao = BoundVao(self.handle, content)
        self.splatter = Splatter()
        self._rgb = np.zeros((MAX_BUNDLES, 3), np.float32)

    @property
    def path(self) -> str:
        if self.layer.path in ("points", "splat"):
            return self.layer.path
        return "splat" if self.software else "points"

    @property
    def on_cpu(self) -> bool:
        return self.path == "splat"

    def upload(self) -> None:
        s = self.layer.strands
        self.palette.fill(s.color, s.glow, s._solver.active)
        if self.path == "points":
            p = self.layer._solver
            for buf, arr in zip(self.buffers, (p.x, p.y, p.z, p.fade, p.tint, p.owner), strict=True):
                buf.write(arr)

    def draw(self, view: np.ndarray, proj: np.ndarray, size: tuple[int, int]) -> None:
        layer, prog = self.layer, self.handle.program
        _set_camera(prog, view, proj, size)
        self.palette.upload(prog)
        prog["u_size"].value = layer.size
        prog["u_intensity"].value = layer.intensity
        self.vao.get().render(moderngl.POINTS, vertices=layer._solver.count)

    def paint(self, image: np.ndarray, view: np.ndarray, proj: np.ndarray, size: tuple[int, int],
              clear: bool) -> None:
        """Add this view's particle light into the CPU canvas (the "splat" path)."""
        layer, p = self.layer, self.layer._solver
        # the same light per particle as a GL point of this size: (1 - r²)² over its disc
        wanted = layer.size * size[1] / 1080.0
        energy = math.pi * wanted * wanted / 12.0 * layer.intensity
        np.multiply(self.palette.rgba[:, :3], self.palette.alpha[:, None], out=self._rgb)
        self.splatter.splat(image, view @ proj, p.x, p.y, p.z, p.fade, p.tint, p.owner, self._rgb,
                            energy, clear, layer.smooth_splat)


DRAWERS = {StrandLayer: StrandDrawer, ParticleLayer: ParticleDrawer}
