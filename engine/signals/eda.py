"""Causal tonic/phasic decomposition of skin conductance (EDA).

A skin conductance response (SCR) starts where the smoothed slope rises past 0.02 µS/s; the
level it rose from is held as the tonic level until the response's decay flattens out (slope
above -0.005 µS/s), the signal falls below that level, or 20 s pass. Between responses the
tonic level follows the signal (down within ~1 s, up within ~5 s, so slow drifts stay tonic).
Phasic = signal − tonic (≥ 0).
An "scr" event (value: amplitude in µS) marks each response's peak, once it is past.
"""

from __future__ import annotations

import numpy as np

from engine.signals.filters import Decimator, RateEstimate
from engine.signals.kernels import eda_run

PARAMS = np.array([1.0, 5.0, 0.02, 0.05, 20.0])  # down tau, up tau, rise µS/s, min amplitude µS, max s
TRACK_HZ = 8.0


class EdaTracker:
    def __init__(self) -> None:
        self.s = np.array([np.nan, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
        self.rate = RateEstimate()
        self.down: Decimator | None = None
        self._out_t = np.zeros(16)
        self._out_v = np.zeros(16)

    tonic = property(lambda self: float(self.s[0]))
    phasic = property(lambda self: float(self.s[1]))

    def process(self, t: np.ndarray, x: np.ndarray) -> list[tuple[float, float]]:
        """Feed a chunk; returns (time, amplitude) of the SCR peaks it completes."""
        if self.rate.update(t) or self.down is None:
            fs = self.rate.fs or TRACK_HZ
            self.down = Decimator(fs, TRACK_HZ if fs > 1.5 * TRACK_HZ else fs, 1.0)
        td, xd = self.down(t, x)
        n = eda_run(np.ascontiguousarray(td, dtype=np.float64), np.ascontiguousarray(xd), self.s, PARAMS,
                    self._out_t, self._out_v)
        return list(zip(self._out_t[:n].tolist(), self._out_v[:n].tolist(), strict=True))
