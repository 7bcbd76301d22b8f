"""Fair shares of a receiver's time: per sender (OSC) or topic (MQTT), a token bucket of
CPU seconds refilled at `share` seconds per wall-clock second, so a sender whose packets are
costly to decode (huge bundles, 200k-element arrays) is cut off at its share instead of
starving everyone else.

The share binds only under contention: a sender alone (no other seen in the last
`CONTENTION` seconds) may use the whole receiver. Dropped input is counted `overload` by the
caller; keys are bounded (port-hopping forgets the longest-idle half).
"""

from __future__ import annotations

MAX_KEYS = 4096
CONTENTION = 1.0


class Budget:
    """Token buckets of decode time per sender or topic: one over its share is dropped undecoded."""

    def __init__(self, share: float, burst: float = 0.25) -> None:
        self.share, self.burst = share, burst
        self._buckets: dict[object, list[float]] = {}  # key -> [tokens (s), last seen]
        self._latest: object = None  # the key seen last, when, and when another key was last seen
        self._latest_t = self._other_t = -1e300

    def allowed(self, key: object, now: float) -> bool:
        b = self._buckets.get(key)
        if b is None:
            if len(self._buckets) >= MAX_KEYS:
                for old in sorted(self._buckets, key=lambda k: self._buckets[k][1])[:MAX_KEYS // 2]:
                    del self._buckets[old]
            b = self._buckets[key] = [self.burst, now]
        b[0] = min(self.burst, b[0] + (now - b[1]) * self.share)
        b[1] = now
        if key != self._latest:
            self._other_t, self._latest = self._latest_t, key
        self._latest_t = now
        return b[0] > 0.0 or self._other_t < now - CONTENTION

    def spent(self, key: object, seconds: float) -> None:
        b = self._buckets.get(key)
        if b is not None:
            b[0] = max(-self.burst, b[0] - seconds)
