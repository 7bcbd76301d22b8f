"""Causal building blocks: IIR filters that keep their state across chunks, a decimator, and
the sample-rate estimate every detector needs. Nothing here looks ahead of the newest sample.
"""

from __future__ import annotations

import numpy as np
from scipy import signal


class CausalSos:
    """A second-order-sections IIR filter applied chunk by chunk (state carried over)."""

    def __init__(self, sos: np.ndarray) -> None:
        self.sos = sos
        self.zi: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.size == 0:
            return x.astype(np.float64)
        if self.zi is None:  # start settled at the first value, not with a step from zero
            self.zi = signal.sosfilt_zi(self.sos) * x[0]
        y, self.zi = signal.sosfilt(self.sos, x, zi=self.zi)
        return y


class CausalFir:
    """An FIR filter (moving sums, differences) applied chunk by chunk."""

    def __init__(self, taps: np.ndarray) -> None:
        self.taps = np.asarray(taps, dtype=np.float64)
        self.zi = np.zeros(self.taps.size - 1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.size == 0:
            return x.astype(np.float64)
        y, self.zi = signal.lfilter(self.taps, [1.0], x, zi=self.zi)
        return y


def bandpass(fs: float, low: float, high: float, order: int = 2) -> CausalSos:
    high = min(high, 0.45 * fs)
    return CausalSos(signal.butter(order, [low, high], btype="bandpass", fs=fs, output="sos"))


def lowpass(fs: float, cutoff: float, order: int = 2) -> CausalSos:
    return CausalSos(signal.butter(order, min(cutoff, 0.45 * fs), btype="lowpass", fs=fs, output="sos"))


class RateEstimate:
    """The sampling rate of a stream from its timestamps; `changed` tells detectors to rebuild."""

    def __init__(self) -> None:
        self.fs = 0.0
        self._last_t: float | None = None

    def update(self, t: np.ndarray) -> bool:
        """Fold in a chunk's times; True when the rate is new or moved by more than 20 %."""
        if t.size == 0:
            return False
        ts = t if self._last_t is None else np.concatenate([[self._last_t], t])
        self._last_t = float(t[-1])
        if ts.size < 2:
            return False
        dt = float(np.median(np.diff(ts)))
        if dt <= 0.0:
            return False
        fs = 1.0 / dt
        if self.fs == 0.0 or abs(fs - self.fs) > 0.2 * self.fs:
            self.fs = fs
            return True
        return False


class Decimator:
    """Low-pass then keep every k-th sample: slow signals at high rates cost little downstream."""

    def __init__(self, fs: float, target: float, cutoff: float) -> None:
        self.step = max(1, int(round(fs / target)))
        self.filter = lowpass(fs, cutoff) if self.step > 1 else None
        self._phase = 0  # samples until the next one kept

    def __call__(self, t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.filter is None:
            return t, x
        y = self.filter(x)
        idx = np.arange(self._phase, x.size, self.step)
        self._phase = (self._phase - x.size) % self.step
        return t[idx], y[idx]


def highpass(fs: float, cutoff: float, order: int = 2) -> CausalSos:
    return CausalSos(signal.butter(order, cutoff, btype="highpass", fs=fs, output="sos"))
