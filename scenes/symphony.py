"""Symphony of Collective Oral Wellness: one thread per participant, woven together by shared breath.

One strand bundle per participant rises through the dark like a thread on a loom. Its colour
is the participant's oral-health state: cool cyan when saliva pH is neutral, warming to coral
as it turns acidic, with a golden cast as bacterial load rises and a dimmer thread under
biofilm. Each heartbeat flashes the bundle and puffs a jet of current up it; each breath swells
it. When the group breathes together (breathing synchrony) the bundles draw inward and weave
into one collective braid that turns faster and glows brighter; when they drift apart, so do
the strands. Particles shed from every strand drift in a slow curl-noise current.

Channels: saliva_ph, bacterial_load, biofilm (per participant: colour); heart beats (flash and
jets); respiration (breath: bundle swell); group: breathing synchrony (braid), mean breath_rate
(how fast the braid slides, bound), mean eda_phasic (particle shimmer, bound).
Works without the implant channels (real recordings): threads then stay cyan.
"""

from __future__ import annotations

import numpy as np

from engine import FlowField, Frame, Param, Participant, ParticleLayer, Scene, StrandLayer

NEUTRAL = np.array([0.10, 0.75, 1.00], np.float32)  # healthy, neutral pH
ACIDIC = np.array([1.00, 0.32, 0.38], np.float32)  # acid attack
LOADED = np.array([1.00, 0.72, 0.20], np.float32)  # high bacterial load


def smoothstep(a: float, b: float, x: float) -> float:
    u = min(max((x - a) / (b - a), 0.0), 1.0)
    return u * u * (3.0 - 2.0 * u)


def oral_colour(p: Participant, slot_hue: np.ndarray) -> np.ndarray:
    """pH sets the hue (neutral cyan → acidic coral), load adds gold, biofilm dims."""
    acid = smoothstep(7.1, 6.2, p.get("saliva_ph", 7.0))
    load = p.get("bacterial_load", 0.3)
    colour = NEUTRAL * (1.0 - acid) + ACIDIC * acid
    colour = colour * (1.0 - 0.5 * load) + LOADED * (0.5 * load)
    dull = 1.0 - 0.35 * p.get("biofilm", 0.0)
    return (0.85 * colour + 0.15 * slot_hue) * dull


class Symphony(Scene):
    title = "Symphony of Collective Oral Wellness"
    max_participants = 16

    # artist knobs (saved in presets); the data-driven ones are bound or set in update()
    weave = Param(0.0, 0.0, 1.0, smoothing=1.2, doc="how far the threads are braided (from synchrony)")
    braid_speed = Param(0.35, 0.0, 1.5, smoothing=2.0, doc="rad/s the plait slides (bound: breath rate)")
    shimmer = Param(0.5, 0.1, 1.2, smoothing=1.0, doc="particle brightness (bound: skin responses)")
    swell = Param(0.07, 0.0, 0.2, doc="how much each breath widens a bundle")
    flash = Param(1.6, 0.0, 3.0, doc="heartbeat flash on the strands")
    puff = Param(6.0, 0.0, 12.0, doc="strength of the current each heartbeat sends up a bundle")
    orbit_speed = Param(6.0, 0.0, 20.0, smoothing=3.0, doc="camera orbit, degrees per second")

    strands_per_bundle = 10
    points = 48
    particles = 40_000

    def setup(self) -> None:
        self.field = FlowField(resolution=32, extent=8.0, seed=self.seed, scale=2.5, noise=1.5)
        self.strands = self.add(StrandLayer(self.max_participants, self.strands_per_bundle,
                                            self.points, width=2.6, intensity=1.0, seed=self.seed))
        self.sparks = self.add(ParticleLayer(self.strands, self.particles, size=2.2,
                                             intensity=0.5, seed=self.seed))
        self.strands.solver.active[:] = 0.0
        hues = np.linspace(0, 1, self.max_participants, endpoint=False)
        self.slot_hue = np.stack([0.5 + 0.5 * np.cos(2 * np.pi * (hues + k / 3)) for k in range(3)],
                                 axis=1).astype(np.float32)
        # the group's breathing tempo slides the braid; skin responses make the particles shimmer
        self.bind("braid_speed", "breath_rate", (8.0, 20.0), (0.15, 0.6), curve="smooth")
        self.bind("shimmer", "eda_phasic", (0.0, 0.6), (0.4, 1.0), curve="ease_out")
        self.camera.distance = 8.0
        self.camera.target[1] = 0.3  # a little above centre: the roots stay in the frame
        self.camera.elevation = 12.0
        self.camera.azimuth = 20.0
        self.post.exposure = 1.1

    def update(self, frame: Frame) -> None:
        strands, solver = self.strands, self.strands.solver
        solver.active[:] = 0.0
        for p in frame.participants:
            b = p.slot % strands.bundles
            solver.active[b] = 0.0 if p.stale else 1.0
            strands.color[b] = oral_colour(p, self.slot_hue[b])
            strands.glow[b] = 0.7 + self.flash * p.beat
            solver.radius[b] = 0.17 + self.swell * p.breath
            if p.beat > 0.5:  # each heartbeat sends a puff of current up the bundle
                self.field.jet(strands.anchor(b, 0.15), (0.0, 1.0, 0.0), self.puff * p.beat, 0.6)
        # the braid follows breathing synchrony; the Param's smoothing eases it so it never snaps
        self.weave = smoothstep(0.45, 0.9, frame.group.synchrony)
        strands.togetherness = self.weave
        # the shared rhythm stirs one slow whirl around the braid
        self.field.vortex((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), 1.5 * self.weave, 2.5)
        solver.braid_spin = self.braid_speed + 0.5 * self.weave
        self.sparks.intensity = self.shimmer
        self.camera.orbit(self.orbit_speed * frame.dt)
        self.post.bloom_strength = 0.8 + 0.5 * self.weave
