"""Drawers for the layer data objects: buffers are created once and refilled each frame.

One class per drawing path. GL drawers (`on_cpu` False) `draw` through GL: strands as
geometry-shader ribbons or one-pixel GL lines, particles as point sprites. CPU drawers
(`cpu_drawers`) `paint` into the renderer's float32 canvas instead, for software GL where
every GL point or line costs about 0.3 µs of set-up. Which path a layer takes is the
backend's choice (`engine.render.backends`) unless the layer's `path` names one.
"""

from __future__ import annotations

import moderngl
import numpy as np

from engine.layers import ParticleLayer, StrandLayer
from engine.render.shaders import BoundVao, ShaderCache

MAX_BUNDLES = 64


class Palette:
    """Per-bundle colour uniforms, filled from preallocated arrays each frame: rgb, glow in
    the fourth component, and the bundle's presence (alpha)."""

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


def uniform(prog: moderngl.Program, name: str, value) -> None:
    """Set a uniform if the compiler kept it (unused uniforms are dropped)."""
    if name in prog:
        prog[name].value = value


def pixel_scale(size: tuple[int, int]) -> float:
    """Sizes given in 1080p pixels (ribbon width, particle size) times this are view pixels:
    they keep their share of the picture height at any resolution."""
    return size[1] / 1080.0


def set_camera(prog: moderngl.Program, view: np.ndarray, proj: np.ndarray, size: tuple[int, int]) -> None:
    prog["u_view"].write(view)
    prog["u_proj"].write(proj)
    uniform(prog, "u_viewport", size)
    uniform(prog, "u_pixel_scale", pixel_scale(size))


class GLDrawer:
    """A drawer that draws through GL; `buffers` are released when its layer goes."""

    on_cpu = False
    path = ""
    buffers: list[moderngl.Buffer]

    def paint(self, image, view, proj, size, clear) -> None:  # pragma: no cover - GL only
        raise TypeError(f"the {self.path!r} path draws through GL")


class _StrandGL(GLDrawer):
    """Strand points in three float buffers, drawn as LINES between neighbouring points."""

    shader = ""

    def __init__(self, ctx: moderngl.Context, shaders: ShaderCache, layer: StrandLayer) -> None:
        s = layer._solver
        if s.bundles > MAX_BUNDLES:
            raise ValueError(f"at most {MAX_BUNDLES} bundles per strand layer")
        self.layer = layer
        self.palette = Palette()
        self.handle = shaders.get(self.shader, {"MAX_BUNDLES": MAX_BUNDLES})
        n, m = s.strands, s.points
        self.buffers = [ctx.buffer(reserve=n * m * 4) for _ in range(3)]
        j = np.arange(m - 1, dtype=np.int32)[:, None]
        i = np.arange(n, dtype=np.int32)[None, :]
        index = np.stack([j * n + i, (j + 1) * n + i], axis=-1).reshape(-1)
        self.index = ctx.buffer(index.astype(np.int32))
        self.buffers.append(self.index)
        content = [(b, "f", nm) for b, nm in zip(self.buffers, ("in_x", "in_y", "in_z"), strict=False)]
        self.vao = BoundVao(self.handle, content, index_buffer=self.index, index_element_size=4)

    def upload(self) -> None:
        s = self.layer._solver
        for buf, arr in zip(self.buffers, (s.x, s.y, s.z), strict=False):
            buf.write(arr)
        self.palette.fill(self.layer.color, self.layer.glow, s.active)

    def draw(self, view: np.ndarray, proj: np.ndarray, size: tuple[int, int]) -> None:
        layer, s = self.layer, self.layer._solver
        prog = self.handle.program
        set_camera(prog, view, proj, size)
        self.palette.upload(prog)
        for name, value in (("u_strands", s.strands), ("u_points", s.points),
                            ("u_strands_per_bundle", s.strands_per_bundle), ("u_width", layer.width),
                            ("u_intensity", layer.intensity), ("u_rim", layer.rim),
                            ("u_depth_fade", layer.depth_fade)):
            uniform(prog, name, value)
        self.vao.get().render(moderngl.LINES)


class RibbonDrawer(_StrandGL):
    """Camera-facing ribbons widened in a geometry shader, with `rim` on their edges: the
    GPU backend's strands."""

    path = "ribbons"
    shader = "strands.glsl"


class LineDrawer(_StrandGL):
    """One-pixel GL lines carrying a ribbon's light (no rim, no width but in brightness)."""

    path = "lines"
    shader = "strands_lines.glsl"


class PointDrawer(GLDrawer):
    """Particles as GL point sprites: the GPU backend's particles."""

    path = "points"

    def __init__(self, ctx: moderngl.Context, shaders: ShaderCache, layer: ParticleLayer) -> None:
        self.layer = layer
        self.palette = Palette()
        self.handle = shaders.get("particles.glsl", {"MAX_BUNDLES": MAX_BUNDLES})
        p = layer._solver
        self.buffers = [ctx.buffer(reserve=p.count * 4) for _ in range(6)]
        names = ("in_x", "in_y", "in_z", "in_fade", "in_tint")
        content = [(b, "f", nm) for b, nm in zip(self.buffers[:5], names, strict=True)]
        content.append((self.buffers[5], "i", "in_owner"))
        self.vao = BoundVao(self.handle, content)

    def upload(self) -> None:
        s = self.layer.strands
        self.palette.fill(s.color, s.glow, s._solver.active)
        p = self.layer._solver
        for buf, arr in zip(self.buffers, (p.x, p.y, p.z, p.fade, p.tint, p.owner), strict=True):
            buf.write(arr)

    def draw(self, view: np.ndarray, proj: np.ndarray, size: tuple[int, int]) -> None:
        layer, prog = self.layer, self.handle.program
        set_camera(prog, view, proj, size)
        self.palette.upload(prog)
        prog["u_size"].value = layer.size
        prog["u_intensity"].value = layer.intensity
        self.vao.get().render(moderngl.POINTS, vertices=layer._solver.count)
