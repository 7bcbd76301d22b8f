"""Wellness Network: many Alcoves as clusters of strands, joined by threads of light.

Every Alcove is a small crown of strand bundles — one bundle per participant, in the Alcove's
own colour — standing on a ring with the other Alcoves; each crown braids on its own when its
members breathe together. Between every two Alcoves runs a thread of light (a strand layer laid
along the line between them). A thread brightens with the activity the two share: both
Alcoves breathing in step with themselves and with each other, and their members' heartbeats
pulsing through it. The ring widens as more Alcoves join, so threads stay the same length.

Participants carry their Alcove id (`p.alcove`; try `--source synthetic:participants=16,alcoves=4`).
Participants without one (single-Alcove sources, replays) sit in circles of three, so the
network still shows.

Channels: respiration (breath phase per participant: each Alcove's synchrony and the threads'
shared activity; breath: bundle swell), heart beats (flashes, pulses along threads),
heart_rate (group mean → how fast the network turns, bound).
"""

from __future__ import annotations

import cmath
import math
from itertools import combinations

import numpy as np

from engine import (
    FlowField,
    Frame,
    Param,
    Participant,
    ParticleLayer,
    Scene,
    StrandLayer,
    smoothstep,
)

MAX_ALCOVES = 6
PER_ALCOVE = 8
HUES = np.array([[0.10, 0.90, 0.85], [1.00, 0.62, 0.15], [1.00, 0.30, 0.50], [0.60, 0.35, 1.00],
                 [0.55, 1.00, 0.25], [0.25, 0.60, 1.00]], np.float32)
THREAD_Y = -0.4  # threads run a little below the middle of the crowns


class WellnessNetwork(Scene):
    title = "Wellness Network"
    max_participants = MAX_ALCOVES * PER_ALCOVE

    spacing = Param(3.2, 1.5, 5.0, smoothing=3.0, doc="distance between neighbouring Alcoves")
    link_gain = Param(1.8, 0.0, 4.0, doc="brightness of a thread at full shared activity")
    link_floor = Param(0.12, 0.0, 0.6, doc="glow of a thread between two quiet Alcoves")
    turn = Param(2.0, 0.0, 8.0, smoothing=4.0, doc="degrees/s the network turns (bound: heart rate)")
    circle = 3  # participants without an Alcove id are seated in circles of this size

    def setup(self) -> None:
        self.field = FlowField(resolution=32, extent=12.0, seed=self.seed, scale=3.0, noise=0.8)
        # every layer exists from the start; update() picks those simulated and drawn
        self.crowns: list[StrandLayer] = []
        self.dust: list[ParticleLayer] = []
        for k in range(MAX_ALCOVES):
            crown = self.add(StrandLayer(PER_ALCOVE, 10, 32, width=2.0, intensity=0.9,
                                         seed=self.seed + k, height=2.6, ring_radius=0.7,
                                         braid_radius=0.3))
            crown.follow_participants = False  # bundles are seats in an Alcove, not slots
            crown.active = 0.0
            crown.separation = 1.4
            dust = self.add(ParticleLayer(crown, 4_000, size=1.8, intensity=0.45, seed=self.seed + k))
            self.crowns.append(crown)
            self.dust.append(dust)
        self.threads: dict[tuple[int, int], StrandLayer] = {}
        for i, j in combinations(range(MAX_ALCOVES), 2):
            thread = self.add(StrandLayer(1, 6, 40, width=1.5, intensity=1.0, seed=self.seed + 7 * i + j,
                                          height=3.0, ring_radius=0.0))
            thread.follow_participants = False  # a link between Alcoves, always there
            thread.radius = 0.05
            thread.bundle_turns = 4.0  # a twisted rope of light
            thread.spin = 1.5
            self.threads[(i, j)] = thread
        self.seats: dict[str, tuple[str, int, int]] = {}  # participant → (alcove, cluster, bundle)
        self.clusters: dict[str, int] = {}  # alcove id → cluster
        self.bind("turn", "heart_rate", (60.0, 95.0), (1.0, 6.0), curve="smooth")
        self.camera.elevation = 30.0
        self.camera.distance = 11.0

    # -- seating ---------------------------------------------------------------------------
    def alcove_of(self, p: Participant) -> str:
        return p.alcove or f"circle{p.slot // self.circle}"

    def seat(self, p: Participant) -> tuple[int, int] | None:
        """A stable (cluster, bundle) for a participant, or None if their Alcove is full."""
        key = self.alcove_of(p)
        if p.id in self.seats and self.seats[p.id][0] == key:  # (their Alcove id may come late)
            return self.seats[p.id][1:]
        if key not in self.clusters:
            free = sorted(set(range(MAX_ALCOVES)) - set(self.clusters.values()))
            if not free:
                return None
            self.clusters[key] = free[0]
        k = self.clusters[key]
        taken = {b for pid, (_, c, b) in self.seats.items() if c == k and pid != p.id}
        free_bundles = [b for b in range(PER_ALCOVE) if b not in taken]
        if not free_bundles:
            return None
        self.seats[p.id] = (key, k, free_bundles[0])
        return k, free_bundles[0]

    # -- frame -----------------------------------------------------------------------------
    def update(self, frame: Frame) -> None:
        present = {p.id for p in frame.participants}
        self.seats = {pid: s for pid, s in self.seats.items() if pid in present}
        members: dict[int, list[Participant]] = {}
        for crown in self.crowns:
            crown.active = 0.0
        for p in frame.participants:
            seat = None if p.stale else self.seat(p)
            if seat is None:
                continue
            k, b = seat
            members.setdefault(k, []).append(p)
            crown = self.crowns[k]
            crown.active[b] = 1.0
            crown.radius[b] = 0.14 + 0.05 * p.breath
            crown.color[b] = HUES[k] * (0.85 + 0.3 * (b % 3) / 2.0)
            crown.glow[b] = 0.7 + 1.4 * p.pulse
        self.clusters = {a: k for a, k in self.clusters.items() if k in members}
        order = sorted(members)
        # each Alcove's own synchrony and mean breathing phase, as one complex number
        phase = {k: self.rhythm(frame, members[k]) for k in order}
        self.place(order, frame.dt)
        for k in order:  # each Alcove braids when its own members breathe together
            self.crowns[k].togetherness = smoothstep(0.5, 0.95, abs(phase[k]))
        # only the Alcoves present and the threads between them are simulated and drawn
        self.layers[:] = [layer for k in order for layer in (self.crowns[k], self.dust[k])]
        for (i, j), thread in self.threads.items():
            if i not in members or j not in members:
                continue
            # shared: both in step with themselves, and with each other
            agree = 0.5 + 0.5 * math.cos(cmath.phase(phase[i]) - cmath.phase(phase[j]))
            shared = abs(phase[i]) * abs(phase[j]) * agree
            pulse = max(p.pulse for p in members[i] + members[j])
            self.link(thread, i, j)
            thread.color[0] = 0.5 * (HUES[i] + HUES[j]) + 0.1
            thread.glow[0] = self.link_floor + self.link_gain * shared ** 2 + 0.5 * pulse * shared
        self.camera.orbit(self.turn * frame.dt)

    def rhythm(self, frame: Frame, people: list[Participant]) -> complex:
        """synchrony·e^(i·mean phase) of an Alcove: from frame.alcoves when the source names
        Alcoves, else computed here (Kuramoto order parameter of the breathing phases)."""
        group = frame.alcoves.get(people[0].alcove) if people[0].alcove else None
        if group is not None:
            return cmath.rect(group.synchrony, group.mean_phase)
        return sum(cmath.exp(1j * p.breath_phase) for p in people) / len(people)

    def place(self, order: list[int], dt: float) -> None:
        """Glide the present Alcoves to even places on a ring sized so neighbours keep `spacing`."""
        count = len(order)
        radius = self.spacing / (2.0 * math.sin(math.pi / count)) if count > 1 else 0.0
        ease = 1.0 - math.exp(-dt / 1.5)
        for rank, k in enumerate(order):
            a = 2.0 * math.pi * rank / count
            goal = np.array([radius * math.cos(a), 0.0, radius * math.sin(a)], np.float32)
            crown = self.crowns[k]
            crown.origin += (goal - crown.origin) * ease
        self.camera.distance += (5.5 + 1.8 * radius - self.camera.distance) * ease

    def link(self, thread: StrandLayer, i: int, j: int) -> None:
        """Lay a thread along the line from Alcove i to Alcove j (its length follows them)."""
        a = self.crowns[i].origin + np.array([0.0, THREAD_Y, 0.0], np.float32)
        b = self.crowns[j].origin + np.array([0.0, THREAD_Y, 0.0], np.float32)
        length = max(float(np.linalg.norm(b - a)), 0.1)
        thread.origin = 0.5 * (a + b)
        thread.axis = (b - a) / length
        thread.set_length(length)
        self.layers.append(thread)
