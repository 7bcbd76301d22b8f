"""GPU drawers for the layer data objects: buffers are created once and refilled each frame."""

from __future__ import annotations

import moderngl
import numpy as np

from engine.layers import ParticleLayer, StrandLayer
from engine.render.shaders import build_program

MAX_BUNDLES = 64


class _Palette:
    """Per-bundle colour uniforms, filled from preallocated arrays each frame."""

    def __init__(self) -> None:
        self.rgba = np.zeros((MAX_BUNDLES, 4), np.float32)
        self.alpha = np.zeros(MAX_BUNDLES, np.float32)

    def upload(self, prog: moderngl.Program, color: np.ndarray, glow: np.ndarray,
               alpha: np.ndarray) -> None:
        n = min(len(color), MAX_BUNDLES)
        self.rgba[:n, :3] = color[:n]
        self.rgba[:n, 3] = glow[:n]
        self.alpha[:n] = alpha[:n]
        prog["u_bundle_color"].write(self.rgba)
        prog["u_bundle_alpha"].write(self.alpha)


def _set_camera(prog: moderngl.Program, view: np.ndarray, proj: np.ndarray, size: tuple[int, int]) -> None:
    prog["u_view"].write(view)
    prog["u_proj"].write(proj)
    if "u_viewport" in prog:  # the compiler drops uniforms a shader does not use
        prog["u_viewport"].value = size
    prog["u_pixel_scale"].value = size[1] / 1080.0


class StrandDrawer:
    def __init__(self, ctx: moderngl.Context, layer: StrandLayer) -> None:
        s = layer.solver
        if s.bundles > MAX_BUNDLES:
            raise ValueError(f"at most {MAX_BUNDLES} bundles per strand layer")
        self.layer = layer
        self.palette = _Palette()
        self.prog, self.files = build_program(ctx, "strands.glsl", {"MAX_BUNDLES": MAX_BUNDLES})
        n, m = s.strands, s.points
        self.buffers = [ctx.buffer(reserve=n * m * 4) for _ in range(3)]
        j = np.arange(m - 1, dtype=np.int32)[:, None]
        i = np.arange(n, dtype=np.int32)[None, :]
        index = np.stack([j * n + i, (j + 1) * n + i], axis=-1).reshape(-1)
        self.index = ctx.buffer(index.astype(np.int32))
        self.vao = ctx.vertex_array(
            self.prog,
            [(b, "f", name) for b, name in zip(self.buffers, ("in_x", "in_y", "in_z"), strict=True)],
            index_buffer=self.index, index_element_size=4,
        )
        self.prog["u_strands"].value = n
        self.prog["u_points"].value = m
        self.prog["u_strands_per_bundle"].value = s.strands_per_bundle

    def draw(self, view: np.ndarray, proj: np.ndarray, size: tuple[int, int]) -> None:
        layer, s = self.layer, self.layer.solver
        for buf, arr in zip(self.buffers, (s.x, s.y, s.z), strict=True):
            buf.write(arr)
        _set_camera(self.prog, view, proj, size)
        self.palette.upload(self.prog, layer.color, layer.glow, s.active)
        self.prog["u_width"].value = layer.width
        self.prog["u_intensity"].value = layer.intensity
        self.vao.render(moderngl.LINES)


class ParticleDrawer:
    def __init__(self, ctx: moderngl.Context, layer: ParticleLayer) -> None:
        self.layer = layer
        self.palette = _Palette()
        self.prog, self.files = build_program(ctx, "particles.glsl", {"MAX_BUNDLES": MAX_BUNDLES})
        p = layer.solver
        self.buffers = [ctx.buffer(reserve=p.count * 4) for _ in range(5)]
        names = ("in_x", "in_y", "in_z", "in_fade")
        content = [(b, "f", name) for b, name in zip(self.buffers[:4], names, strict=True)]
        content.append((self.buffers[4], "i", "in_owner"))
        self.vao = ctx.vertex_array(self.prog, content)

    def draw(self, view: np.ndarray, proj: np.ndarray, size: tuple[int, int]) -> None:
        layer, p = self.layer, self.layer.solver
        for buf, arr in zip(self.buffers, (p.x, p.y, p.z, p.fade, p.owner), strict=True):
            buf.write(arr)
        _set_camera(self.prog, view, proj, size)
        strands = layer.strands
        self.palette.upload(self.prog, strands.color, strands.glow, strands.solver.active)
        self.prog["u_size"].value = layer.size
        self.prog["u_intensity"].value = layer.intensity
        self.vao.render(moderngl.POINTS, vertices=p.count)


DRAWERS = {StrandLayer: StrandDrawer, ParticleLayer: ParticleDrawer}
