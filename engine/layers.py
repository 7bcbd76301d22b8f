"""Drawable layers: the artist's objects. Each owns its simulation (private) and its look.

Every knob a scene turns is an attribute of the layer, documented here: shape of the braid,
per-bundle arrays, particle motion. The solver behind it (`_solver`) is the engine's; the old
way in, `layer.solver.<name>`, still works for one release and warns once per name, naming
the attribute to use instead. Layers hold no GPU objects: `engine.render` draws them.
"""

from __future__ import annotations

import numpy as np

from engine.knobs import ArrayKnob, Knob, SolverShim
from engine.solver import FlowField, ParticleSolver, StrandSolver

F32 = np.float32


class Layer:
    visible: bool = True
    # by default a participant's bundle shows while they are present (not stale): the engine
    # sets `active` before each update(); False hands `active` to the scene
    follow_participants: bool = False
    _solver: StrandSolver | ParticleSolver
    _MOVED: dict[str, str] = {}

    @property
    def solver(self) -> SolverShim:
        """Deprecated: the layer's own attributes (warns once per name, naming the new one)."""
        return SolverShim(self._solver, type(self), self._MOVED)

    def step(self, dt: float, field: FlowField | None) -> None:
        """Advance the layer's simulation by dt seconds (the engine calls this)."""


class StrandLayer(Layer):
    """One bundle of strands per participant, braided together by `togetherness`."""

    follow_participants = True
    # per bundle b (shape (bundles,), or (bundles, 3) for force): a scalar fills every bundle
    radius = ArrayKnob("radius", "bundle thickness, world units (0.05..0.6)")
    spin = ArrayKnob("spin", "how fast a bundle's strands turn round its spine, rad/s")
    force = ArrayKnob("force", "extra acceleration per bundle, world units/s² (x, y, z)")
    active = ArrayKnob("active", "0..1 presence: drawn (its light × active) and braided while > 0; "
                       "while follow_participants the engine eases it to 1 for a present "
                       "participant (fade_in s) and to 0 for one who left (fade_out s)")
    # the braid
    braid_turns = Knob("braid_turns", "plait periods root to tip in the collective braid")
    braid_spin = Knob("braid_spin", "how fast the plait slides along the strands, rad/s")
    rope_turns = Knob("rope_turns", "twists of a lane's bundles round each other, root to tip")
    bundle_turns = Knob("bundle_turns", "twists of strands round their bundle's spine")
    separation = Knob("separation", "least distance between bundle centres, in bundle radii")
    stiffness = Knob("stiffness", "pull towards the braid's shape, 1/s² (low: the flow combs)")
    bending = Knob("bending", "0..1 straightening per constraint sweep")
    damping = Knob("damping", "0..1 velocity kept per 1/60 s")
    field_force = Knob("field_force", "how much the flow pushes the strands, 1/s: a flow of 1 unit/s "
                       "accelerates the tips by field_force units/s² (less towards the root)")
    glide = Knob("glide", "seconds: as people come and go, roots glide to their new places "
                 "round the ring with this time constant (0: they jump)")
    # shape and placement
    height = Knob("height", "root-to-tip height, world units (see set_length)")
    ring_radius = Knob("ring_radius", "radius of the ring of roots, world units")
    braid_radius = Knob("braid_radius", "radius of the collective braid, world units")
    origin = ArrayKnob("origin", "the layer's centre (x, y, z), world units")
    axis = ArrayKnob("axis", "the direction its strands grow (x, y, z); braiding assumes +y")

    _MOVED = {"rest": "set_length(length)", "togetherness": "togetherness"}

    def __init__(self, bundles: int = 12, strands_per_bundle: int = 12, points: int = 48, *,
                 width: float = 3.0, intensity: float = 1.0, seed: int = 0, **shape: float) -> None:
        self._solver = StrandSolver(bundles, strands_per_bundle, points, seed=seed, **shape)
        self.color = np.ones((bundles, 3), F32)  # linear RGB per bundle
        self.glow = np.ones(bundles, F32)  # brightness multiplier per bundle (heartbeats)
        self.width = width  # ribbon width in 1080p pixels
        self.intensity = intensity
        self.rim = 0.0  # fresnel-like glow on the ribbon edges (hologram look)
        self.depth_fade = 0.08  # light lost per world unit of distance beyond the target
        # "ribbons" (GPU), "cpu" (one-pixel lines drawn by Numba: software GL), "lines" (the
        # same through GL), or "auto" by GL renderer
        self.path = "auto"
        self.fade_in = 0.5  # seconds for a newcomer's bundle to light up (follow_participants)
        self.fade_out = 1.5  # seconds for the bundle of someone who left to fade away
        self._want = np.zeros(bundles, F32)
        self._followed = False

    @property
    def bundles(self) -> int:
        return self._solver.bundles

    @property
    def points(self) -> int:
        """Points along each strand, root to tip."""
        return self._solver.points

    @property
    def togetherness(self) -> float:
        """0 apart .. 1 one braid."""
        return self._solver.togetherness

    @togetherness.setter
    def togetherness(self, value: float) -> None:
        self._solver.togetherness = float(min(max(value, 0.0), 1.0))

    def set_length(self, length: float) -> None:
        """Make the strands straight chains `length` world units long, root to tip (a thread
        stretched between two points: height and every segment's rest length)."""
        sv = self._solver
        sv.height = float(length)
        sv.rest[:] = length / (sv.points - 1)

    def anchor(self, bundle: int, s: float = 0.0) -> tuple[float, float, float]:
        """Where bundle `bundle` is now, a fraction s of the way from root (0) to tip (1):
        handy for placing field forces, lights and labels on a participant's strands."""
        sv = self._solver
        j = min(max(round(s * (sv.points - 1)), 0), sv.points - 1)
        k = j * sv.strands + bundle * sv.strands_per_bundle
        return float(sv.x[k]), float(sv.y[k]), float(sv.z[k])

    def follow(self, participants, dt: float = 0.0) -> None:
        """Bundles follow participants: bundle slot % bundles goes towards 1 while its
        participant is present (not stale), towards 0 once they are stale or gone, over
        fade_in / fade_out seconds. The first call sets it at once (a fresh or reloaded scene
        shows who is here without a fade)."""
        active, want = self._solver.active, self._want
        want[:] = 0.0
        for p in participants:
            if not p.stale:
                want[p.slot % want.shape[0]] = 1.0
        if not self._followed:
            self._followed = True
            active[:] = want
            return
        up = dt / self.fade_in if self.fade_in > 0 else 1.0
        down = dt / self.fade_out if self.fade_out > 0 else 1.0
        np.clip(want - active, -down, up, out=want)
        active += want

    def step(self, dt: float, field: FlowField | None) -> None:
        self._solver.step(dt, field)


class ParticleLayer(Layer):
    """Particles born on a strand layer's strands, tinted by their bundle's colour."""

    speed = Knob("speed", "how fast particles ride the flow (× the field's strength)")
    lift = Knob("lift", "steady rise, world units/s")
    jitter = Knob("jitter", "scatter round the birth point, world units")
    life_min = Knob("life_min", "shortest life, seconds")
    life_max = Knob("life_max", "longest life, seconds")
    # state, shape (count,): read it; write it only to seed a look in setup() (tapestry)
    x, y, z = (ArrayKnob(a, "position, world units") for a in "xyz")
    age = ArrayKnob("age", "seconds since birth")
    life = ArrayKnob("life", "each particle's lifetime, seconds (0: born on the next step)")
    owner = ArrayKnob("owner", "the bundle each particle was born on")
    fade = ArrayKnob("fade", "0..1 brightness from age (read only in spirit)")
    spawns = ArrayKnob("spawns", "how many times each particle was born")
    tint = ArrayKnob("tint", "0..1 colour variation within the bundle's colour")

    def __init__(self, strands: StrandLayer, count: int = 50_000, *, size: float = 2.5,
                 intensity: float = 0.6, seed: int = 0) -> None:
        self.strands = strands
        self._solver = ParticleSolver(count, seed=seed)
        self.size = size  # point diameter in 1080p pixels
        self.intensity = intensity
        self.path = "auto"  # "points" (GPU sprites), "splat" (CPU), or auto by GL renderer
        # CPU splat: bilinear over four pixels (no pixel-hopping sparkle at rest; about twice
        # the cost); None: smooth up to SMOOTH_MAX particles, where each one is seen
        self.smooth: bool | None = None

    SMOOTH_MAX = 250_000

    @property
    def count(self) -> int:
        return self._solver.count

    @property
    def smooth_splat(self) -> bool:
        return self.smooth if self.smooth is not None else self._solver.count <= self.SMOOTH_MAX

    def step(self, dt: float, field: FlowField | None) -> None:
        if field is None:
            raise ValueError("ParticleLayer needs the scene to have a field")
        self._solver.step(dt, field, self.strands._solver)


def follow_participants(layers, participants, dt: float = 0.0) -> None:
    """The engine's presence pass, before update(): layers that follow participants do."""
    for layer in layers:
        if layer.follow_participants and isinstance(layer, StrandLayer):
            layer.follow(participants, dt)
