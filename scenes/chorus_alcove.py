"""Chorus Alcove: interactive biofeedback, every breath answered by your own thread of light.

Each participant has one strand bundle in a ring, in a colour of their own (a chorus of
voices, amber to violet). It answers its owner's breath at once: an inhale widens the bundle,
opens it outward like a flower, lifts it and makes it brighter; an exhale lets it close and
dim. Its twist turns at the owner's breathing rate. The collective outcome shapes the whole
tapestry: breathing together (synchrony) draws the bundles into one braid, roped tighter the
more they agree; calm — a low heart rate and few skin-conductance responses, both bound to
parameters — stills the flow field, softens the light into a wide bloom and whitens the
chorus, while an aroused group stirs turbulence and a restless whirl through the ring.

Channels: respiration (per participant: breath, breath phase, breath rate), heart beats
(flash), group: synchrony (braid), mean heart_rate and mean eda_phasic (calm, bound).
Trust: while a participant's breathing signal is untrustworthy (p.quality["respiration"] under
0.5: movement, a slipped belt, a flat line) their bundle turns grey and dim (the `doubt` knob);
a stale participant (no data at all) has no bundle.
"""

from __future__ import annotations

import math

import numpy as np

from engine import FlowField, Frame, Param, ParticleLayer, Scene, StrandLayer, smoothstep

# the chorus: one voice colour per slot, warm to cool and back
VOICES = np.array([[1.00, 0.55, 0.15], [1.00, 0.30, 0.35], [0.95, 0.25, 0.70], [0.65, 0.30, 1.00],
                   [0.30, 0.45, 1.00], [0.15, 0.75, 1.00], [0.15, 1.00, 0.75], [0.55, 1.00, 0.30],
                   [1.00, 0.85, 0.25], [1.00, 0.45, 0.55], [0.80, 0.45, 1.00], [0.35, 0.85, 1.00]],
                  np.float32)
WHITE = np.ones(3, np.float32)


class ChorusAlcove(Scene):
    title = "Chorus Alcove"
    max_participants = 12

    breath_depth = Param(1.0, 0.0, 2.0, doc="how strongly a bundle answers its owner's breath")
    blossom = Param(12.0, 0.0, 30.0, doc="outward push of an inhale on a bundle's strands")
    heart_calm = Param(0.5, 0.0, 1.0, smoothing=4.0, doc="bound: group heart rate 95 → 60 bpm")
    skin_calm = Param(0.5, 0.0, 1.0, smoothing=4.0, doc="bound: group skin responses 0.5 → 0 µS")
    weave = Param(0.0, 0.0, 1.0, smoothing=2.0, doc="braid (from breathing synchrony)")
    turbulence = Param(2.5, 0.0, 6.0, doc="stirring of the field when the group is not calm")
    doubt = Param(0.8, 0.0, 1.0, doc="how far a bundle greys and dims while its breathing data is "
                                      "untrustworthy (movement, a slipped belt): p.quality")

    def setup(self) -> None:
        self.field = FlowField(resolution=32, extent=8.0, seed=self.seed, scale=2.0, noise=1.0)
        self.strands = self.add(StrandLayer(self.max_participants, 14, 48, width=2.0, intensity=0.9,
                                            seed=self.seed, height=3.6, ring_radius=2.0,
                                            braid_radius=0.7))
        self.motes = self.add(ParticleLayer(self.strands, 25_000, size=1.8, intensity=0.45,
                                            seed=self.seed))
        self.strands.rim = 0.4
        self.strands.bundle_turns = 1.4  # each voice a spiral of its own
        # calm is read from the group: a low heart rate and quiet skin, each its own parameter
        self.bind("heart_calm", "heart_rate", (95.0, 60.0), curve="smooth")
        self.bind("skin_calm", "eda_phasic", (0.5, 0.0), curve="ease_in")
        self.camera.distance = 8.0
        self.camera.elevation = 24.0  # from a little above: the circle of voices reads as a ring
        self.camera.target[1] = 0.0

    @property
    def calm(self) -> float:
        return 0.5 * (self.heart_calm + self.skin_calm)

    def update(self, frame: Frame) -> None:
        strands = self.strands  # bundles follow participants: the engine shows those present
        calm, depth = self.calm, self.breath_depth
        breaths = []
        for p in frame.participants:
            b = p.slot % strands.bundles
            if p.stale:
                continue
            inhale = 0.5 + 0.5 * max(min(p.breath, 1.0), -1.0)  # 0 (exhaled) .. 1 (full)
            breaths.append(inhale)
            strands.radius[b] = 0.08 + 0.3 * inhale * depth
            x, _, z = strands.anchor(b, 0.0)
            r = math.hypot(x, z) or 1.0
            push = self.blossom * depth * (inhale - 0.5)  # inhale opens, exhale closes
            strands.force[b] = (push * x / r, 3.0 * inhale * depth, push * z / r)
            strands.spin[b] = 0.5 * 2.0 * math.pi * p.breath_rate / 60.0
            voice = VOICES[b % len(VOICES)]
            color = voice * (1.0 - 0.2 * calm) + WHITE * (0.2 * calm)
            # untrustworthy data (quality under 0.5: an artifact, not a still breath) greys and
            # dims the bundle rather than letting noise drive it; a stale one is gone (above)
            unsure = self.doubt * (1.0 - smoothstep(0.1, 0.5, p.quality.get("respiration", 1.0)))
            strands.color[b] = color + unsure * (0.55 * float(color.mean()) - color)
            strands.glow[b] = (0.3 + 1.1 * inhale * depth + 0.6 * p.pulse) * (1.0 - 0.6 * unsure)
        # the collective: synchrony braids the chorus, calm stills and softens it
        self.weave = smoothstep(0.4, 0.9, frame.group.synchrony)
        strands.togetherness = self.weave
        strands.rope_turns = 0.5 + 1.5 * self.weave
        strands.braid_spin = 0.15 + 0.3 * self.weave
        restless = 1.0 - calm
        self.field.noise = 0.3 + self.turbulence * restless
        self.field.vortex((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), 3.0 * restless, 2.2)
        together = float(np.mean(breaths)) if breaths else 0.5
        self.motes.lift = 0.05 + 0.35 * together
        self.post.bloom_strength = 0.35 + 0.6 * calm
        self.post.bloom_radius = 0.7 + 0.4 * calm
        self.post.exposure = 0.85 + 0.2 * calm
        self.camera.orbit(4.0 * frame.dt)
