"""Causal tonic/phasic decomposition of skin conductance (EDA).

The tonic level follows the signal down quickly (1 s) and up slowly (30 s), so it rides along
the lower envelope; the phasic part is what sits above it: skin conductance responses (SCRs).
An "scr" event marks each response whose phasic part rises past 0.05 µS.
"""

from __future__ import annotations

import numpy as np

from engine.signals.filters import Decimator, RateEstimate
from engine.signals.kernels import eda_run

DOWN_TAU = 1.0
UP_TAU = 30.0
SCR_ONSET = 0.05  # µS
SCR_RESET = 0.02
TRACK_HZ = 8.0


class EdaTracker:
    def __init__(self) -> None:
        self.s = np.array([np.nan, 0.0, 0.0, 0.0, 0.0])  # tonic, phasic, last_t, in_scr, started
        self.rate = RateEstimate()
        self.down: Decimator | None = None
        self._out_t = np.zeros(16)
        self._out_v = np.zeros(16)

    tonic = property(lambda self: float(self.s[0]))
    phasic = property(lambda self: float(self.s[1]))

    def process(self, t: np.ndarray, x: np.ndarray) -> list[tuple[float, float]]:
        """Feed a chunk; returns (time, value) of SCR onsets it contains."""
        if self.rate.update(t) or self.down is None:
            fs = self.rate.fs or TRACK_HZ
            self.down = Decimator(fs, TRACK_HZ if fs > 1.5 * TRACK_HZ else fs, 1.0)
        td, xd = self.down(t, x)
        n = eda_run(np.ascontiguousarray(td, dtype=np.float64), xd, self.s, DOWN_TAU, UP_TAU, SCR_ONSET,
                    SCR_RESET, self._out_t, self._out_v)
        return list(zip(self._out_t[:n].tolist(), self._out_v[:n].tolist(), strict=True))
