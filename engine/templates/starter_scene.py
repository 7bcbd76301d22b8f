"""Starter scene: one glowing thread per participant, braided together when the group breathes in sync.

Written by `run_symphony.py new`. Change anything and save: a running `show` picks the edit
up within a second, and a mistake never blanks the screen (the last good version keeps
drawing and the error appears on screen). The guide: docs/scenes.md.

Channels: respiration (breath), heart beats, group synchrony, mean heart_rate (bound).
"""

from __future__ import annotations

from engine import FlowField, Frame, Param, ParticleLayer, Scene, StrandLayer


class StarterScene(Scene):
    title = "Starter scene"  # shown in the window title
    max_participants = 12  # one strand bundle per participant: p.slot is 0..11

    # Parameters: a default, a range, and a smoothing time in seconds (they glide, never jump).
    # Read them as self.warmth etc. (the current, smoothed value); presets save and recall them.
    warmth = Param(0.3, 0.0, 1.0, smoothing=3.0, doc="0 cool blue .. 1 warm amber (bound below)")
    flash = Param(1.5, 0.0, 4.0, doc="how brightly a heartbeat flashes")
    spin = Param(8.0, 0.0, 30.0, doc="camera orbit, degrees per second")

    def setup(self) -> None:
        """Called once: add layers, bind channels, set the camera and the look."""
        # the flow field stirs strands and carries particles
        self.field = FlowField(resolution=32, extent=8.0, seed=self.seed, noise=1.0)
        # one bundle of 8 strands (40 points each) per participant
        self.strands = self.add(StrandLayer(self.max_participants, 8, 40, width=2.5, seed=self.seed))
        # particles are born on the strands and take their bundle's colour
        self.sparks = self.add(ParticleLayer(self.strands, 20_000, size=2.0, intensity=0.5,
                                             seed=self.seed))
        # the engine shows a participant's bundle while they are here (follow_participants)
        # one line: the group's mean heart rate 60..100 bpm drives `warmth` 0..1, eased in
        self.bind("warmth", "heart_rate", (60.0, 100.0), curve="smooth")
        self.camera.distance = 8.0
        self.post.bloom_strength = 0.8

    def update(self, frame: Frame) -> None:
        """Called every frame with the data: read it, turn the knobs."""
        cool, warm = (0.2, 0.6, 1.0), (1.0, 0.6, 0.2)
        colour = [c + (w - c) * self.warmth for c, w in zip(cool, warm, strict=True)]
        for p in frame.participants:
            b = p.slot % self.strands.bundles  # this participant's bundle
            self.strands.color[b] = colour
            self.strands.glow[b] = 0.6 + self.flash * p.pulse  # p.pulse: 1 at a heartbeat, fading
            self.strands.radius[b] = 0.18 + 0.06 * p.breath  # p.breath: -1 exhaled .. 1 inhaled
        # breathing together (0..1) weaves the bundles into one braid
        self.strands.togetherness = frame.group.synchrony
        self.camera.orbit(self.spin * frame.dt)
