"""Drawable layers: data objects that own their solver state and their look.

They hold no GPU objects: `engine.render` draws them. A scene adds layers in `setup()` and
turns their knobs in `update()`; the runtime steps them and hands them to the renderer.
"""

from __future__ import annotations

import numpy as np

from engine.solver import FlowField, ParticleSolver, StrandSolver

F32 = np.float32


class Layer:
    visible: bool = True

    def step(self, dt: float, field: FlowField | None) -> None:
        """Advance the layer's simulation by dt seconds."""


class StrandLayer(Layer):
    """One bundle of strands per participant, braided together by `togetherness`."""

    def __init__(self, bundles: int = 12, strands_per_bundle: int = 12, points: int = 48, *,
                 width: float = 3.0, intensity: float = 1.0, seed: int = 0, **shape: float) -> None:
        self.solver = StrandSolver(bundles, strands_per_bundle, points, seed=seed, **shape)
        self.color = np.ones((bundles, 3), F32)  # linear RGB per bundle
        self.glow = np.ones(bundles, F32)  # brightness multiplier per bundle (heartbeats)
        self.width = width  # ribbon width in 1080p pixels
        self.intensity = intensity
        self.rim = 0.0  # fresnel-like glow on the ribbon edges (hologram look)
        self.depth_fade = 0.08  # light lost per world unit of distance beyond the target
        # "ribbons" (GPU), "cpu" (one-pixel lines drawn by Numba: software GL), "lines" (the
        # same through GL), or "auto" by GL renderer
        self.path = "auto"

    @property
    def bundles(self) -> int:
        return self.solver.bundles

    @property
    def togetherness(self) -> float:
        return self.solver.togetherness

    @togetherness.setter
    def togetherness(self, value: float) -> None:
        self.solver.togetherness = float(min(max(value, 0.0), 1.0))

    def anchor(self, bundle: int, s: float = 0.0) -> tuple[float, float, float]:
        """Where bundle `bundle` is now, a fraction s of the way from root (0) to tip (1):
        handy for placing field forces, lights and labels on a participant's strands."""
        sv = self.solver
        j = min(max(round(s * (sv.points - 1)), 0), sv.points - 1)
        k = j * sv.strands + bundle * sv.strands_per_bundle
        return float(sv.x[k]), float(sv.y[k]), float(sv.z[k])

    def step(self, dt: float, field: FlowField | None) -> None:
        self.solver.step(dt, field)


class ParticleLayer(Layer):
    """Particles born on a strand layer's strands, tinted by their bundle's colour."""

    def __init__(self, strands: StrandLayer, count: int = 50_000, *, size: float = 2.5,
                 intensity: float = 0.6, seed: int = 0) -> None:
        self.strands = strands
        self.solver = ParticleSolver(count, seed=seed)
        self.size = size  # point diameter in 1080p pixels
        self.intensity = intensity
        self.path = "auto"  # "points" (GPU sprites), "splat" (CPU), or auto by GL renderer
        # CPU splat: bilinear over four pixels (no pixel-hopping sparkle at rest; about twice
        # the cost); None: smooth up to SMOOTH_MAX particles, where each one is seen
        self.smooth: bool | None = None

    SMOOTH_MAX = 250_000

    @property
    def smooth_splat(self) -> bool:
        return self.smooth if self.smooth is not None else self.solver.count <= self.SMOOTH_MAX

    def step(self, dt: float, field: FlowField | None) -> None:
        if field is None:
            raise ValueError("ParticleLayer needs the scene to have a field")
        self.solver.step(dt, field, self.strands.solver)
