"""A test scene whose trails switch on and off: short feedback (0.5) in pulses, so a segment
render needs a pre-roll from inside the previous segment, and sometimes none."""

from engine import FlowField, ParticleLayer, Scene, StrandLayer


class TrailPulse(Scene):
    title = "Trail pulse"
    max_participants = 4

    def setup(self) -> None:
        self.field = FlowField(resolution=16, seed=self.seed)
        self.strands = self.add(StrandLayer(bundles=4, strands_per_bundle=3, points=16, seed=self.seed))
        self.add(ParticleLayer(self.strands, count=3000, seed=self.seed))

    def update(self, frame) -> None:
        for p in frame.participants:
            self.strands.color[p.slot] = (0.3 + 0.7 * p.pulse, 0.5, 1.0)
        # trails on for 20 frames, off for 3: pre-rolls both cross segment starts and stop early
        self.post.trails = 0.5 if frame.index % 23 < 20 else 0.0
