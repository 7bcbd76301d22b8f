"""Causal tonic/phasic decomposition of skin conductance (EDA).

The tonic level follows the signal down quickly (1 s) and up slowly (30 s), so it rides along
the lower envelope; the phasic part is what sits above it: skin conductance responses (SCRs).
An "scr" event marks each response whose phasic part rises past 0.05 µS.
"""

from __future__ import annotations

import math

import numpy as np

from engine.signals.filters import Decimator, RateEstimate

DOWN_TAU = 1.0
UP_TAU = 30.0
SCR_ONSET = 0.05  # µS
SCR_RESET = 0.02
TRACK_HZ = 8.0


class EdaTracker:
    def __init__(self) -> None:
        self.tonic = math.nan
        self.phasic = 0.0
        self.rate = RateEstimate()
        self.down: Decimator | None = None
        self._last_t: float | None = None
        self._in_scr = False

    def process(self, t: np.ndarray, x: np.ndarray) -> list[tuple[float, float]]:
        """Feed a chunk; returns (time, value) of SCR onsets it contains."""
        if self.rate.update(t) or self.down is None:
            fs = self.rate.fs or TRACK_HZ
            self.down = Decimator(fs, TRACK_HZ if fs > 1.5 * TRACK_HZ else fs, 1.0)
        td, xd = self.down(t, np.asarray(x, dtype=np.float64))
        onsets: list[tuple[float, float]] = []
        for ti, xi in zip(td.tolist(), xd.tolist(), strict=True):
            if self._last_t is None or not math.isfinite(self.tonic):
                self.tonic, self._last_t = xi, ti
                continue
            dt = max(ti - self._last_t, 0.0)
            self._last_t = ti
            tau = DOWN_TAU if xi < self.tonic else UP_TAU
            self.tonic += (1.0 - math.exp(-dt / tau)) * (xi - self.tonic)
            self.phasic = max(xi - self.tonic, 0.0)
            if not self._in_scr and self.phasic > SCR_ONSET:
                self._in_scr = True
                onsets.append((ti, self.phasic))
            elif self._in_scr and self.phasic < SCR_RESET:
                self._in_scr = False
        return onsets
