"""What the intake remembers of one stream: its newest time and the (time, value) pairs of its
last `reorder_window` seconds, so that late samples can be told from exact duplicates (same
time and value) and from coarse-clock repeats (same time, another value), which are kept.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np


class StreamState:
    """A stream's newest time and the (time, value) pairs of its last `reorder_window` seconds."""

    __slots__ = ("last_t", "_t", "_v", "stuck_since")

    def __init__(self) -> None:
        self.last_t = -math.inf
        self._t: deque[np.ndarray] = deque()  # sorted, non-overlapping arrays
        self._v: deque[np.ndarray] = deque()  # the float32 values delivered with them
        self.stuck_since = math.nan  # when samples first fell too far behind last_t

    def push(self, ts: np.ndarray, v: np.ndarray, window: float) -> None:
        """In-order samples (all at or after last_t)."""
        self._t.append(ts)
        self._v.append(v)
        self.last_t = float(ts[-1])
        self.stuck_since = math.nan
        cut = self.last_t - window
        while len(self._t) > 1 and self._t[0][-1] < cut:
            self._t.popleft()
            self._v.popleft()
        if len(self._t) > 4096:  # many tiny messages: fold them into one array
            self._t = deque([np.concatenate(self._t)])
            self._v = deque([np.concatenate(self._v)])

    def recent(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._t:
            return np.zeros(0), np.zeros(0, np.float32)
        return np.concatenate(self._t), np.concatenate(self._v)

    def merge(self, lt: np.ndarray, lv: np.ndarray) -> None:
        t, v = self.recent()
        t, v = np.concatenate([t, lt]), np.concatenate([v, lv])
        order = np.argsort(t, kind="stable")
        self._t, self._v = deque([t[order]]), deque([v[order]])
