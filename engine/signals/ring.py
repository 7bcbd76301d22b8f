"""A bounded ring buffer of one stream's recent samples (times and values), kept in time order.

Memory per stream is fixed (`capacity` samples), whatever the input rate, so a flood of data
cannot grow the process. Late samples (within the source's reorder window) are merged in order.
"""

from __future__ import annotations

import math

import numpy as np

from engine.signals.kernels import ring_put


class Ring:
    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self.t = np.zeros(capacity, np.float64)
        self.v = np.zeros(capacity, np.float32)
        self.head = 0  # index of the next write
        self.size = 0
        self.total = 0  # samples ever stored
        self.last_t = -math.inf  # newest time stored

    def extend(self, t: np.ndarray, v: np.ndarray) -> None:
        n = t.size
        if n == 0:
            return
        self.total += n
        if t[0] <= self.last_t:
            ot, ov = self.arrays()
            order = np.argsort(np.concatenate([ot, t]), kind="stable")
            t, v = np.concatenate([ot, t])[order], np.concatenate([ov, v])[order]
            self.head = self.size = 0
            n = t.size
        self.last_t = max(self.last_t, float(t[-1]))
        if n >= self.capacity:
            self.t[:], self.v[:] = t[-self.capacity:], v[-self.capacity:]
            self.head, self.size = 0, self.capacity
            return
        self.head = ring_put(self.t, self.v, self.head, t, v)
        self.size = min(self.capacity, self.size + n)

    def arrays(self, seconds: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the stored samples in time order (the last `seconds` of them if given)."""
        start = (self.head - self.size) % self.capacity
        idx = (start + np.arange(self.size)) % self.capacity
        t, v = self.t[idx], self.v[idx]
        if seconds is not None and t.size:
            k = int(np.searchsorted(t, t[-1] - seconds))
            t, v = t[k:], v[k:]
        return t, v
