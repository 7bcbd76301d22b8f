"""Tapestry: an installation piece that weaves a cloth over a whole session, stitch by stitch.

Every participant who arrives gets a weft thread of their own colour (hues by order of
arrival) on a horizontal loom: a strand layer lying across the frame whose threads swell
with their owner's breath, flash with their heartbeats and plait together when the group
breathes in sync. As the threads move they leave stitches — particles that barely drift and
live for the whole session — and the weaving line descends slowly from the top of the frame
to the bottom over `session_minutes`, so the cloth grows row by row: the top is the start of
the session, the bottom its end. Someone who leaves keeps their place in the cloth: their
living thread goes dark, their stitches stay, faintly. Short trails (post.trails) let the
moving threads smear light like a shuttle; a still camera, swaying slowly, and a low
exposure keep the accumulating cloth from burning out. The cloth survives live reloads (the
people present then get fresh threads).

Channels: respiration (breath: thread swell), heart beats (thread flash), group synchrony
(plait), group mean heart_rate (how far threads sway in the flow, bound), joins and leaves.
"""

from __future__ import annotations

import math

import numpy as np

from engine import FlowField, Frame, Param, ParticleLayer, Scene, StrandLayer, palette

THREADS = 64  # people one session can hold (the renderer's per-layer bundle limit)
TOP, BOTTOM = 1.9, -1.9  # where the weaving line starts and ends
ROWS = 14  # the line steps down row by row, like weft beaten into the cloth
GOLDEN = 0.381966


def hue(h: float) -> np.ndarray:
    """A saturated colour for hue h in 0..1 (linear RGB)."""
    return palette(h) ** 1.6  # the rainbow cosine palette, deepened


class Tapestry(Scene):
    title = "Tapestry"
    max_participants = 16

    session_minutes = Param(20.0, 0.5, 240.0, doc="one pass of the loom; stitches last as long")
    afterglow = Param(0.96, 0.0, 0.99, doc="post.trails: how long moving threads smear light")
    exposure = Param(0.8, 0.2, 2.0, smoothing=2.0, doc="kept low so the cloth never burns out")
    sway = Param(0.4, 0.1, 1.5, smoothing=5.0, doc="how much the flow moves the threads (bound)")
    weave = Param(0.0, 0.0, 1.0, smoothing=2.0, doc="plait of the threads (from synchrony)")
    stitches = 150_000

    def setup(self) -> None:
        self.field = FlowField(resolution=32, extent=10.0, seed=self.seed, scale=3.0, noise=0.6)
        self.loom = self.add(StrandLayer(THREADS, 3, 96, width=1.6, intensity=0.9, seed=self.seed,
                                         height=7.6, ring_radius=0.14, braid_radius=0.12,
                                         origin=(0.0, TOP, 0.0), axis=(1.0, 0.0, 0.0)))
        self.cloth = self.add(ParticleLayer(self.loom, self.stitches, size=1.8, intensity=0.1,
                                            seed=self.seed))
        loom = self.loom
        loom.follow_participants = False  # threads by order of arrival, kept after people leave
        loom.active = 0.0
        loom.bundle_turns = 2.0
        loom.braid_turns = 1.5
        # stitches: born on the threads at an even rate, then they stay for the session
        p = self.cloth
        p.lift, p.jitter = 0.0, 0.008  # stitches sit where the point of a thread was (the warp)
        self.stitch_life(p)
        p.life[:] = np.random.default_rng(self.seed).uniform(0.0, p.life_max, p.count)
        p.y[:] = 1e4  # unborn stitches wait far outside the view
        p.spawns[:] = 1  # so each is born with its full life, not part-way through
        self.arrivals: dict[str, int] = {}  # participant → thread, in order of arrival
        self.next_thread = 0
        self.fresh = True
        self.bind("sway", "heart_rate", (60.0, 95.0), (0.25, 1.0))
        self.camera.distance = 7.0
        self.camera.elevation = 0.0
        self.post.bloom_strength = 0.35
        self.post.bloom_threshold = 0.5

    def stitch_life(self, p: ParticleLayer) -> None:
        life = 60.0 * self.session_minutes
        p.life_min, p.life_max = 0.95 * life, 1.05 * life
        p.speed = 0.2 / life  # the cloth ripples a little in the flow over a session, no more

    @staticmethod
    def colour(b: int) -> np.ndarray:
        """Thread b's colour: hues a golden angle apart, so neighbours in time differ."""
        return hue(GOLDEN * b + 0.55)

    def remember(self) -> None:
        """After a live reload the cloth is carried over but the book of arrivals is not:
        every thread that still has stitches keeps them (as a memory), newcomers and the
        people present get fresh threads."""
        p = self.cloth
        owners = np.unique(p.owner[(p.spawns > 1) & (p.fade > 0)])  # born, and still there
        for b in owners:
            self.loom.active[b] = 1.0
            self.loom.color[b] = 0.35 * self.colour(int(b))
            self.loom.glow[b] = 0.0
        self.next_thread = int(owners.max()) + 1 if owners.size else 0

    def update(self, frame: Frame) -> None:
        loom = self.loom
        if self.fresh:
            self.remember()
            self.fresh = False
        here = set()
        for p in frame.participants:
            b = self.arrivals.get(p.id)
            if b is None and self.next_thread < THREADS:
                b = self.arrivals[p.id] = self.next_thread
                self.next_thread += 1
            if b is None:
                continue
            here.add(b)
            loom.active[b] = 1.0
            loom.color[b] = self.colour(b)
            loom.glow[b] = 0.0 if p.stale else 0.8 + 1.2 * p.pulse
            loom.radius[b] = 0.035 + 0.02 * p.breath
        for b in np.flatnonzero(loom.active):  # gone: the thread goes dark, its stitches stay, faint
            if b not in here:
                loom.glow[b] = 0.0
                loom.color[b] = np.maximum(loom.color[b] * 0.995, 0.35 * self.colour(int(b)))
        self.weave = 0.8 * max(0.0, (frame.group.synchrony - 0.4) / 0.6)
        loom.togetherness = self.weave
        loom.field_force = self.sway
        # the weaving line steps down a row at a time over the session, then starts over
        session = 60.0 * self.session_minutes
        u = (frame.t % session) / session * ROWS
        row, within = divmod(u, 1.0)
        step = min(max((within - 0.9) / 0.1, 0.0), 1.0)  # glide to the next row at the end
        loom.origin[1] = TOP + (BOTTOM - TOP) * (row + step * step * (3 - 2 * step)) / (ROWS - 1)
        self.stitch_life(self.cloth)
        # with trails a, still light piles up to 1/(1-a) times itself: scale the light to match
        keep = 1.0 - self.afterglow
        self.post.trails = self.afterglow
        self.loom.intensity = 3.0 * keep
        self.cloth.intensity = 2.5 * keep
        self.post.exposure = self.exposure
        self.camera.azimuth = 10.0 * math.sin(2 * math.pi * frame.t / 240.0)
