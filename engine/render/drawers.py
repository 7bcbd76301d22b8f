"""GPU drawers for the layer data objects: buffers are created once and refilled each frame.

Particles have two paths that look alike: GL point sprites (fast on a real GPU) and a Numba
CPU splat uploaded as a float texture (fast on software GL, where each GL point costs about
0.3 µs). `ParticleDrawer` picks by the GL renderer unless told otherwise.
"""

from __future__ import annotations

import math

import moderngl
import numpy as np

from engine.layers import ParticleLayer, StrandLayer
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
    """Ribbons from a geometry shader on a GPU; one-pixel lines carrying the same light on
    software GL, where the ribbons cost several times more (or as `layer.path` says)."""

    def __init__(self, ctx: moderngl.Context, shaders: ShaderCache, layer: StrandLayer,
                 software: bool = False) -> None:
        s = layer.solver
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

    @property
    def path(self) -> str:
        if self.layer.path in ("ribbons", "lines"):
            return self.layer.path
        return "lines" if self.software else "ribbons"

    def upload(self) -> None:
        s = self.layer.solver
        for buf, arr in zip(self.buffers, (s.x, s.y, s.z), strict=True):
            buf.write(arr)
        self.palette.fill(self.layer.color, self.layer.glow, s.active)

    def draw(self, view: np.ndarray, proj: np.ndarray, size: tuple[int, int]) -> None:
        lines = self.path == "lines"
        layer, s = self.layer, self.layer.solver
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
        p = layer.solver
        self.buffers = [ctx.buffer(reserve=p.count * 4) for _ in range(6)]
        names = ("in_x", "in_y", "in_z", "in_fade", "in_tint")
        content = [(b, "f", nm) for b, nm in zip(self.buffers[:5], names, strict=True)]
        content.append((self.buffers[5], "i", "in_owner"))
        self.vao = BoundVao(self.handle, content)
        self.splat_handle = shaders.get("splat.glsl")
        self.splat_vao = BoundVao(self.splat_handle, [])
        self._splatters: dict[tuple[int, int], tuple[Splatter, moderngl.Texture]] = {}
        self._rgb = np.zeros((MAX_BUNDLES, 3), np.float32)

    @property
    def path(self) -> str:
        if self.layer.path in ("points", "splat"):
            return self.layer.path
        return "splat" if self.software else "points"

    def upload(self) -> None:
        s = self.layer.strands
        self.palette.fill(s.color, s.glow, s.solver.active)
        if self.path == "points":
            p = self.layer.solver
            for buf, arr in zip(self.buffers, (p.x, p.y, p.z, p.fade, p.tint, p.owner), strict=True):
                buf.write(arr)

    def draw(self, view: np.ndarray, proj: np.ndarray, size: tuple[int, int]) -> None:
        if self.path == "splat":
            self._draw_splat(view, proj, size)
            return
        layer, prog = self.layer, self.handle.program
        _set_camera(prog, view, proj, size)
        self.palette.upload(prog)
        prog["u_size"].value = layer.size
        prog["u_intensity"].value = layer.intensity
        self.vao.get().render(moderngl.POINTS, vertices=layer.solver.count)

    def splat_image(self, view: np.ndarray, proj: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """This view's particle light as an (h, w, 4) float32 image, bottom row first."""
        key = (int(size[0]), int(size[1]))
        entry = self._splatters.get(key)
        if entry is None:
            tex = self.ctx.texture(key, 4, dtype="f4")
            tex.filter = moderngl.NEAREST, moderngl.NEAREST
            entry = self._splatters[key] = (Splatter(key), tex)
        splatter = entry[0]
        layer, p = self.layer, self.layer.solver
        # the same light per particle as a GL point of this size: (1 - r²)² over its disc
        wanted = layer.size * size[1] / 1080.0
        energy = math.pi * wanted * wanted / 12.0 * layer.intensity
        np.multiply(self.palette.rgba[:, :3], self.palette.alpha[:, None], out=self._rgb)
        return splatter.splat(view @ proj, p.x, p.y, p.z, p.fade, p.tint, p.owner, self._rgb, energy)

    def _draw_splat(self, view: np.ndarray, proj: np.ndarray, size: tuple[int, int]) -> None:
        """Add the splat image into the current target (when it could not be the target's
        starting contents: see Renderer.render_view)."""
        image = self.splat_image(view, proj, size)
        tex = self._splatters[(int(size[0]), int(size[1]))][1]
        tex.write(image)
        tex.use(0)
        self.splat_handle.program["u_splat"].value = 0
        self.splat_vao.get().render(moderngl.TRIANGLES, vertices=3)


DRAWERS = {StrandLayer: StrandDrawer, ParticleLayer: ParticleDrawer}
