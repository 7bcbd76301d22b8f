"""A test scene for perform mode whose colour says what the show is doing: red is the `glow`
parameter (no smoothing), green is on while any participant is present (live or fallback
data), blue is the scene's `tint` (so two versions of the file tell cues apart)."""

from engine import Param, Scene


class PerformPanel(Scene):
    title = "Perform panel"
    max_participants = 4
    glow = Param(0.2, 0.0, 1.0, doc="red")
    soft = Param(0.0, 0.0, 1.0, smoothing=0.5, doc="a smoothed parameter")
    tint = 0.3

    def setup(self) -> None:
        self.post.bloom_strength = 0.0

    def update(self, frame) -> None:
        present = 0.5 if frame.group.present > 0 else 0.0
        self.background = (self.glow, present, self.tint)
