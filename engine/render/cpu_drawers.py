"""CPU drawers: layers painted by Numba into the renderer's float32 canvas (software GL).

They carry the same light as their GL counterparts (`drawers`): the splat adds what a point
sprite of the layer's size would, the CPU lines what a ribbon of the layer's width would.
"""

from __future__ import annotations

import math

import numpy as np

from engine.layers import ParticleLayer, StrandLayer
from engine.render.cpu_lines import StrandRasterizer
from engine.render.drawers import MAX_BUNDLES, Palette, pixel_scale
from engine.render.splat import Splatter

# light per pixel of ribbon width (shaders/chunks/strand_light.glsl): core and halo, and rim
CORE_LIGHT, RIM_LIGHT = 0.515, 0.1635


class CpuLineDrawer:
    """Anti-aliased threads drawn by the CPU: the software backend's strands. They carry a
    ribbon's light, its rim's included (in the thread: at thread scale edges do not show)."""

    on_cpu = True
    path = "cpu"

    def __init__(self, ctx, shaders, layer: StrandLayer) -> None:
        s = layer._solver
        if s.bundles > MAX_BUNDLES:
            raise ValueError(f"at most {MAX_BUNDLES} bundles per strand layer")
        self.layer = layer
        self.palette = Palette()
        self.buffers: list = []
        self.rasterizer = StrandRasterizer(s.strands * s.points)

    def upload(self) -> None:
        self.palette.fill(self.layer.color, self.layer.glow, self.layer._solver.active)

    def paint(self, image: np.ndarray, view: np.ndarray, proj: np.ndarray, size: tuple[int, int],
              clear: bool) -> None:
        """Add the strands' light into the CPU canvas."""
        layer = self.layer
        rim = (CORE_LIGHT + RIM_LIGHT * layer.rim) / CORE_LIGHT  # the rasterizer carries CORE_LIGHT
        self.rasterizer.paint(image, view, proj, layer._solver, self.palette.rgba, self.palette.alpha,
                              layer.width, pixel_scale(size), layer.intensity * rim, layer.depth_fade,
                              clear)


class SplatDrawer:
    """Each particle's light added into the canvas at its pixel: the software backend's
    particles."""

    on_cpu = True
    path = "splat"

    def __init__(self, ctx, shaders, layer: ParticleLayer) -> None:
        self.layer = layer
        self.palette = Palette()
        self.buffers: list = []
        self.splatter = Splatter()
        self._rgb = np.zeros((MAX_BUNDLES, 3), np.float32)
        self._gain = np.zeros(MAX_BUNDLES, np.float32)

    def upload(self) -> None:
        s = self.layer.strands
        self.palette.fill(s.color, s.glow, s._solver.active)

    def paint(self, image: np.ndarray, view: np.ndarray, proj: np.ndarray, size: tuple[int, int],
              clear: bool) -> None:
        """Add this view's particle light into the CPU canvas."""
        layer, p = self.layer, self.layer._solver
        # the same light per particle as a GL point of this size: (1 - r²)² over its disc
        wanted = layer.size * pixel_scale(size)
        energy = math.pi * wanted * wanted / 12.0 * layer.intensity
        # each bundle's colour × its glow × its presence, as the point sprites' shader takes it
        np.multiply(self.palette.rgba[:, 3], self.palette.alpha, out=self._gain)
        np.multiply(self.palette.rgba[:, :3], self._gain[:, None], out=self._rgb)
        self.splatter.splat(image, view @ proj, p.x, p.y, p.z, p.fade, p.tint, p.owner, self._rgb,
                            energy, clear, layer.smooth_splat)
