"""Microbiome Workshop: a small group's oral microbiome as a living culture seen from above.

Each participant (up to six) is a colony in a shared dish: a tuft of short, curling strands
on a ring, seeded with particles that the flow field gathers into swirling colonies. Bacterial
load is how hard a colony's vortex spins and how far its tuft turns; biofilm is how tightly
its attractor clumps the particles, how wide the tuft spreads and (group mean, bound) how big
the particles are. Saliva pH is colour chemistry, like an indicator dye: acidic red-orange,
neutral green, alkaline blue-violet. A heartbeat sends a ripple out of the colony; a breath
swells it.

Bad input is part of the piece: `frame.glitch.level` (the envelope of rejected or repaired data)
becomes interference on the hologram — tearing, chromatic fringes, flicker, scanlines — and a
burst of glitches kicks jets through the culture. It is never shown as an error.

Channels: saliva_ph (colour), bacterial_load (vortex, spin; group mean → particle brightness,
bound), biofilm (attractor, tuft width; group mean → particle size, bound), heart beats,
respiration (breath), frame.glitch. Without implant channels (real recordings) colonies sit
at neutral green with a moderate load.
"""

from __future__ import annotations

import math

import numpy as np

from engine import FlowField, Frame, Param, ParticleLayer, Scene, StrandLayer

# an indicator dye, pH 4.5 → 8.5: red, orange, yellow, green, teal, blue, violet
DYE_PH = np.array([4.5, 5.5, 6.2, 6.9, 7.4, 7.9, 8.5])
DYE_RGB = np.array([[1.00, 0.12, 0.10], [1.00, 0.42, 0.05], [0.95, 0.85, 0.10], [0.25, 1.00, 0.35],
                    [0.05, 0.90, 0.80], [0.15, 0.45, 1.00], [0.65, 0.25, 1.00]], np.float32)
RING = 2.0  # radius of the ring of colonies


def dye(ph: float) -> np.ndarray:
    """Indicator colour of a pH value (linear RGB)."""
    return np.array([np.interp(ph, DYE_PH, DYE_RGB[:, k]) for k in range(3)], np.float32)


class MicrobiomeWorkshop(Scene):
    title = "Microbiome Workshop"
    max_participants = 6

    grain = Param(2.2, 1.0, 4.5, smoothing=2.0, doc="particle size (bound: mean biofilm)")
    bloom_of_life = Param(0.6, 0.2, 1.4, smoothing=2.0, doc="particle brightness (bound: mean load)")
    swirl = Param(3.0, 0.0, 8.0, doc="vortex strength of a fully loaded colony")
    clump = Param(2.0, 0.0, 5.0, doc="attractor strength of a full biofilm")
    ripple = Param(5.0, 0.0, 12.0, doc="strength of the heartbeat ripple out of a colony")
    interference = Param(0.0, 0.0, 1.0, smoothing=0.15, doc="hologram interference (from frame.glitch.level)")
    calm_scan = Param(0.18, 0.0, 0.6, doc="scanlines when the data is clean")

    def setup(self) -> None:
        n = self.max_participants
        self.field = FlowField(resolution=32, extent=8.0, seed=self.seed, scale=1.6, noise=0.6,
                               decay=1.5, drift=(0.02, 0.0, 0.03))
        self.tufts = self.add(StrandLayer(n, 20, 14, width=1.6, intensity=0.9, seed=self.seed,
                                          height=1.1, ring_radius=RING))
        self.culture = self.add(ParticleLayer(self.tufts, 50_000, size=2.2, intensity=0.6,
                                              seed=self.seed))
        tufts = self.tufts
        tufts.bundle_turns = 1.6  # strands curl round their tuft like cilia
        tufts.stiffness = 14.0  # loose enough for the flow to comb them
        tufts.field_force = 1.4
        p = self.culture
        p.lift = 0.0  # colonies spread in the dish, they do not rise
        p.speed = 0.7
        p.jitter = 0.25
        p.life_min, p.life_max = 4.0, 11.0
        self.bind("grain", "biofilm", (0.1, 0.8), curve="smooth")
        self.bind("bloom_of_life", "bacterial_load", (0.1, 0.9), (0.35, 1.1))
        self.rng = np.random.default_rng(self.seed)
        self.camera.distance = 7.0
        self.camera.elevation = 62.0
        self.camera.target[1] = -0.2
        self.post.bloom_strength = 0.9
        self.post.bloom_threshold = 0.3
        self.post.exposure = 1.2

    def colony(self, b: int) -> tuple[float, float, float]:
        """Centre of colony b, a little above the dish floor."""
        a = 2.0 * math.pi * b / self.max_participants
        return (RING * math.cos(a), -0.2, RING * math.sin(a))

    def update(self, frame: Frame) -> None:
        tufts, field = self.tufts, self.field  # the engine shows present participants' tufts
        for p in frame.participants:
            b = p.slot % self.max_participants
            if p.stale:
                continue
            load = p.get("bacterial_load", 0.4)
            film = p.get("biofilm", 0.3)
            centre = self.colony(b)
            tufts.radius[b] = 0.22 + 0.45 * film + 0.05 * p.breath
            tufts.spin[b] = 0.3 + 2.5 * load
            self.tufts.color[b] = dye(p.get("saliva_ph", 7.0))
            self.tufts.glow[b] = 0.6 + 1.2 * p.pulse
            # the colony: a whirl whose speed is the load, a pull whose grip is the biofilm
            field.vortex(centre, (0.0, 1.0, 0.0), self.swirl * (0.2 + load), 0.9)
            field.attract(centre, self.clump * film, 1.3)
            if p.pulse > 0.6:  # the heartbeat ripples outward through the dish
                out = (centre[0], 0.0, centre[2])
                field.jet(centre, out, self.ripple * p.pulse, 0.7)
        self.culture.size = self.grain
        self.culture.intensity = self.bloom_of_life
        self.interfere(frame)
        self.camera.orbit(3.0 * frame.dt)

    def interfere(self, frame: Frame) -> None:
        """Glitches in the data become the hologram's interference, and stir the culture."""
        self.interference = frame.glitch.level
        g = self.interference
        post = self.post
        post.scanlines = self.calm_scan + 0.4 * g
        post.chromatic = 1.5 + 14.0 * g
        post.flicker = 0.08 + 0.6 * g
        post.glitch = 0.9 * g
        if frame.glitch.count:  # a burst of bad packets kicks the culture
            for _ in range(min(frame.glitch.count, 4)):
                at = self.rng.uniform(-RING, RING, 3) * (1.0, 0.2, 1.0)
                way = self.rng.normal(size=3) * (1.0, 0.1, 1.0)
                self.field.jet(at, way, 4.0 + 8.0 * g, 0.8)
