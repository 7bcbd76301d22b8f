"""Fair admission of participant ids under a cap: a flood of one-off ids never shuts out a
participant who sends steadily.

Ids start on probation; an id seen `steady_after` times becomes steady. When the cap is full a
newcomer takes the place of the least recently active id on probation (ids that sent once go
first); a steady id gives up its place only after `idle_forget` seconds of silence. So an
attacker cycling through 100,000 ids churns the probation places among themselves, while a
real participant is admitted on their first sample and kept from their `steady_after`-th on.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class Admission:
    """Which ids hold a place; `admit` returns (admitted, evicted ids to forget)."""

    def __init__(self, cap: int, idle_forget: float = 5.0, steady_after: int = 3,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cap, self.idle_forget, self.steady_after = cap, idle_forget, steady_after
        self._clock = clock
        self._probation: OrderedDict[str, int] = OrderedDict()  # id -> messages seen
        self._steady: OrderedDict[str, float] = OrderedDict()  # id -> last seen

    def __contains__(self, pid: object) -> bool:
        return pid in self._steady or pid in self._probation

    def __len__(self) -> int:
        return len(self._steady) + len(self._probation)

    def ids(self) -> set[str]:
        return set(self._steady) | set(self._probation)

    def seen(self, pid: str) -> bool:
        """Note one message of an id already holding a place; False if it holds none."""
        if pid in self._steady:
            self._steady[pid] = self._clock()
            self._steady.move_to_end(pid)
            return True
        n = self._probation.get(pid)
        if n is None:
            return False
        if n + 1 >= self.steady_after:
            del self._probation[pid]
            self._steady[pid] = self._clock()
        else:
            self._probation[pid] = n + 1
            self._probation.move_to_end(pid)
        return True

    def enter(self, pid: str) -> tuple[bool, str | None]:
        """A new id: (admitted, the id it displaced or None)."""
        evicted = None
        if len(self) >= self.cap:
            if self._probation:
                evicted, _ = self._probation.popitem(last=False)
            elif self._steady:
                oldest, last = next(iter(self._steady.items()))
                if self._clock() - last < self.idle_forget:
                    return False, None
                del self._steady[oldest]
                evicted = oldest
            else:
                return False, None
        if self.steady_after <= 1:
            self._steady[pid] = self._clock()
        else:
            self._probation[pid] = 1
        return True, evicted

    def remove(self, pid: str) -> None:
        self._probation.pop(pid, None)
        self._steady.pop(pid, None)
