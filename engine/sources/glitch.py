"""'Nano-bot miscommunication': what a bad link does to packets, for testing the whole path.

With probability P a packet is dropped, delayed (a burst arrives later, out of order),
duplicated, or followed by a garbage packet (NaN, inf, far out of range, an unknown channel, a
malformed participant id, a timestamp far in the past, non-numbers, an oversize payload).
Every packet then goes through the same `Intake` as real network input. Decisions depend only
on the seed and the tick, never on how often the source is polled, so a glitched run is as
reproducible as a clean one. `dropped` records what was lost on purpose, for tests: the last
`MAX_DROPPED` drops (all of them grew a live show by ~0.7 MB a minute at 64 participants).
"""

from __future__ import annotations

import heapq
import math
from collections import deque

import numpy as np

from engine.data import Chunk
from engine.sources.intake import Intake, Rejects

KINDS = ("drop", "delay", "duplicate", "garbage")
GARBAGE = ("nan", "inf", "range", "channel", "participant", "backwards", "type", "oversize")

Packet = tuple[str, str, list[float], list[float]]
MAX_DROPPED = 50_000


class Glitcher:
    def __init__(self, seed: int, rate: float, source: str = "synthetic") -> None:
        self.seed = seed
        self.rate = rate
        self.rejects = Rejects(source)
        self.intake = Intake(self.rejects, max_samples=4096)
        self.dropped: deque[tuple[str, str, float]] = deque(maxlen=MAX_DROPPED)
        self.injected: dict[str, int] = {}
        self._queue: list[tuple[int, int, Packet]] = []  # (delivery tick, order, packet)
        self._order = 0

    def _push(self, tick: int, packet: Packet) -> None:
        heapq.heappush(self._queue, (tick, self._order, packet))
        self._order += 1

    def _garbage(self, rng: np.random.Generator, packet: Packet) -> Packet:
        pid, channel, t, v = packet
        kind = GARBAGE[int(rng.integers(len(GARBAGE)))]
        self.injected[kind] = self.injected.get(kind, 0) + 1
        if kind == "nan":
            return pid, channel, [t[0] + 0.001], [math.nan]
        if kind == "inf":
            return pid, channel, [t[0] + 0.001], [math.inf]
        if kind == "range":
            return pid, channel, [t[0] + 0.001], [1e12]
        if kind == "channel":
            return pid, "zz_not_a_channel", t, v
        if kind == "participant":
            return "not a pseudonym!", channel, t, v
        if kind == "backwards":
            return pid, channel, [t[0] - 100.0], v
        if kind == "type":
            return pid, channel, t, ["x"]  # type: ignore[list-item]
        return pid, channel, list(np.full(5000, t[0])), list(np.zeros(5000))

    def tick(self, tick: int, packets: list[Packet]) -> list[Chunk]:
        """Take one tick's packets; return the chunks delivered at this tick, after the Intake."""
        rng = np.random.default_rng((self.seed, 0x6C17C4, tick))
        hit = rng.random(len(packets)) < self.rate
        kinds = rng.integers(len(KINDS), size=len(packets))
        delays = rng.integers(1, 40, size=len(packets))
        for packet, h, k, d in zip(packets, hit, kinds, delays, strict=True):
            kind = KINDS[k] if h else ""
            if kind == "drop":
                self.dropped.append((packet[0], packet[1], packet[2][0]))
            elif kind == "delay":
                self._push(tick + int(d), packet)
            elif kind == "duplicate":
                self._push(tick, packet)
                self._push(tick + int(d) // 4, packet)
            elif kind == "garbage":
                self._push(tick, packet)
                self._push(tick, self._garbage(rng, packet))
            else:
                self._push(tick, packet)
        chunks: list[Chunk] = []
        while self._queue and self._queue[0][0] <= tick:
            _, _, (pid, channel, t, v) = heapq.heappop(self._queue)
            chunks += self.intake.add(pid, channel, t, v)
        return chunks
