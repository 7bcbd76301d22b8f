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

from engine import (
    FlowField,
    Frame,
    Param,
    Participant,
    ParticleLayer,
    Scene,
    StrandLayer,
    hue,
    smoothstep,
)

ACIDIC = np.array([1.00, 0.25, 0.22], np.float32)  # acid attack: coral red
LOADED = np.array([1.00, 0.70, 0.12], np.float32)  # high bacterial load: gold
GOLDEN = 0.381966  # hue step between participants: neighbours never look alike


def oral_colour(p: Participant, identity: np.ndarray) -> np.ndarray:
    """The participant's own hue, warmed towards coral as saliva pH turns acidic, given a
    golden cast by bacterial load, and dimmed and greyed by biofilm."""
    acid = smoothstep(7.0, 6.0, p.get("saliva_ph", 7.0))
    load = smoothstep(0.3, 0.9, p.get("bacterial_load", 0.3))
    film = p.get("biofilm", 0.0)
    colour = identity * (1.0 - 0.55 * acid) + ACIDIC * (0.55 * acid)
    colour = colour * (1.0 - 0.3 * load) + LOADED * (0.3 * load)
    grey = float(colour.mean())
    colour = colour * (1.0 - 0.3 * film) + grey * (0.3 * film)
    return colour * (1.0 - 0.3 * film)


class Symphony(Scene):
    title = "Symphony of Collective Oral Wellness"
    max_participants = 16

    # artist knobs (saved in presets); the data-driven ones are bound or set in update()
    weave = Param(0.0, 0.0, 1.0, smoothing=0.8, doc="how far the threads are braided (from synchrony)")
    braid_speed = Param(0.35, 0.0, 1.5, smoothing=2.0, doc="rad/s the plait slides (bound: breath rate)")
    shimmer = Param(0.7, 0.1, 1.5, smoothing=1.0, doc="particle brightness (bound: skin responses)")
    swell = Param(0.07, 0.0, 0.2, doc="how much each breath widens a bundle")
    flash = Param(1.6, 0.0, 3.0, doc="heartbeat flash on the strands")
    puff = Param(6.0, 0.0, 12.0, doc="strength of the current each heartbeat sends up a bundle")
    orbit_speed = Param(6.0, 0.0, 20.0, smoothing=3.0, doc="camera orbit, degrees per second")

    strands_per_bundle = 10
    points = 48
    particles = 60_000

    def setup(self) -> None:
        self.field = FlowField(resolution=32, extent=12.0, seed=self.seed, scale=3.0, noise=1.5)
        # a wide ring of tall bundles, seen through a long lens: it fills a 16:9 frame
        self.strands = self.add(StrandLayer(self.max_participants, self.strands_per_bundle,
                                            self.points, width=3.2, intensity=1.0, seed=self.seed,
                                            height=5.2, ring_radius=3.4, braid_radius=1.1))
        self.sparks = self.add(ParticleLayer(self.strands, self.particles, size=2.4,
                                             intensity=0.6, seed=self.seed))
        # each participant's own hue, a golden-ratio step round the wheel from teal
        self.identity = np.stack([hue((0.47 + GOLDEN * k) % 1.0, 0.9)
                                  for k in range(self.max_participants)])
        # the group's breathing tempo slides the braid; skin responses make the particles shimmer
        self.bind("braid_speed", "breath_rate", (8.0, 20.0), (0.15, 0.6), curve="smooth")
        self.bind("shimmer", "eda_phasic", (0.0, 0.6), (0.6, 1.3), curve="ease_out")
        self.camera.fov_y = 30.0
        self.camera.distance = 14.0
        self.camera.target[1] = 0.15  # the layer stands centred on y = 0: roots and tips in frame
        self.camera.elevation = 8.0
        self.camera.azimuth = 20.0
        self.post.exposure = 1.25

    def update(self, frame: Frame) -> None:
        strands = self.strands  # bundles follow participants: the engine shows those present
        for k, p in enumerate(frame.participants):
            b = p.slot % strands.bundles
            # participants arrive one after another: each thread kindles over a second
            arrive = smoothstep(0.25 * k - 0.5, 0.25 * k + 0.5, frame.t)
            strands.color[b] = oral_colour(p, self.identity[b]) * arrive
            strands.glow[b] = 0.8 + self.flash * p.pulse
            strands.radius[b] = 0.2 + self.swell * p.breath
            if p.pulse > 0.5:  # each heartbeat sends a puff of current up the bundle
                self.field.jet(strands.anchor(b, 0.15), (0.0, 1.0, 0.0), self.puff * p.pulse, 0.6)
        # the braid follows breathing synchrony; the Param's smoothing eases it so it never snaps
        self.weave = smoothstep(0.7, 0.95, frame.group.synchrony)
        strands.togetherness = self.weave
        # ...and the ring of roots gathers in, so the braid stands as tall as the threads
        strands.ring_radius = 3.4 - 2.0 * self.weave
        # the shared rhythm stirs one slow whirl around the braid
        self.field.vortex((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), 1.5 * self.weave, 3.5)
        strands.braid_spin = self.braid_speed + 0.5 * self.weave
        self.sparks.intensity = self.shimmer
        # threads braided together overlap: dim them a little so the braid keeps its colours
        strands.intensity = 1.0 - 0.5 * self.weave
        self.camera.orbit(self.orbit_speed * frame.dt)
        self.post.bloom_strength = 0.9 + 0.2 * self.weave
