"""Symphony of Collective Oral Wellness.

One strand bundle per participant rises through the dark like a thread on a loom. Its colour
is the participant's oral-health state: cool cyan when saliva pH is neutral, warming to coral
as it turns acidic, with a golden cast as bacterial load rises. Each heartbeat flashes the
bundle, each breath swells it. When the group breathes together (breathing synchrony) the
bundles draw inward and weave into one collective braid; when they drift apart, so do the
strands. Particles shed from every strand drift in a slow curl-noise current.

Field: heartbeats puff jets of current up each bundle; synchrony stirs a vortex round the braid.

Channels: saliva_ph, bacterial_load, biofilm, heart beats, respiration (breath and phase),
group breathing synchrony.
"""

from __future__ import annotations

import math

import numpy as np

from engine import FlowField, Frame, Participant, ParticleLayer, Scene, StrandLayer

NEUTRAL = np.array([0.10, 0.75, 1.00], np.float32)  # healthy, neutral pH
ACIDIC = np.array([1.00, 0.32, 0.38], np.float32)  # acid attack
LOADED = np.array([1.00, 0.72, 0.20], np.float32)  # high bacterial load


def smoothstep(a: float, b: float, x: float) -> float:
    u = min(max((x - a) / (b - a), 0.0), 1.0)
    return u * u * (3.0 - 2.0 * u)


def oral_colour(p: Participant, slot_hue: np.ndarray) -> np.ndarray:
    acid = smoothstep(7.1, 6.2, p.get("saliva_ph", 7.0))
    load = p.get("bacterial_load", 0.3)
    colour = NEUTRAL * (1.0 - acid) + ACIDIC * acid
    colour = colour * (1.0 - 0.5 * load) + LOADED * (0.5 * load)
    dull = 1.0 - 0.35 * p.get("biofilm", 0.0)  # biofilm dims the thread
    return (0.75 * colour + 0.25 * slot_hue) * dull


class Symphony(Scene):
    title = "Symphony of Collective Oral Wellness"
    max_participants = 16

    strands_per_bundle = 10
    points = 48
    particles = 40_000

    def setup(self) -> None:
        self.field = FlowField(resolution=32, extent=8.0, seed=self.seed, scale=2.5, noise=1.5)
        self.strands = self.add(StrandLayer(self.max_participants, self.strands_per_bundle,
                                            self.points, width=2.6, intensity=1.2, seed=self.seed))
        self.sparks = self.add(ParticleLayer(self.strands, self.particles, size=2.2,
                                             intensity=0.5, seed=self.seed))
        self.strands.solver.active[:] = 0.0
        hues = np.linspace(0, 1, self.max_participants, endpoint=False)
        self.slot_hue = np.stack([0.5 + 0.5 * np.cos(2 * np.pi * (hues + k / 3)) for k in range(3)],
                                 axis=1).astype(np.float32)
        self.together = 0.0
        self.camera.distance = 7.5
        self.camera.elevation = 12.0
        self.post.bloom_strength = 0.9
        self.post.exposure = 1.1

    def update(self, frame: Frame) -> None:
        strands = self.strands
        solver = strands.solver
        solver.active[:] = 0.0
        for p in frame.participants:
            b = p.slot % strands.bundles
            solver.active[b] = 1.0
            strands.color[b] = oral_colour(p, self.slot_hue[b])
            strands.glow[b] = 0.7 + 1.6 * p.beat
            solver.radius[b] = 0.17 + 0.07 * p.breath
            if p.beat > 0.5:  # each heartbeat sends a puff of current up the bundle
                self.field.jet(self.strands.anchor(b, 0.15), (0.0, 1.0, 0.0), 6.0 * p.beat, 0.6)
        # the braid follows the group's breathing synchrony, eased so it never snaps
        goal = smoothstep(0.45, 0.9, frame.group.synchrony)
        self.together += (goal - self.together) * (1.0 - math.exp(-frame.dt / 1.2))
        strands.togetherness = self.together
        # the shared rhythm stirs one slow whirl around the braid
        self.field.vortex((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), 1.5 * self.together, 2.5)
        solver.braid_spin = 0.2 + 0.5 * self.together
        self.camera.azimuth = 20.0 + 6.0 * frame.t
        self.post.bloom_strength = 0.8 + 0.5 * self.together
