"""Causal building blocks: IIR/FIR filters that keep their state across chunks, a decimator,
and the sample-rate estimate every detector needs. Nothing here looks ahead of the newest
sample; the per-sample loops are compiled (`engine.signals.kernels`).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from engine.signals.kernels import fir_run, sos_run


class CausalSos:
    """A second-order-sections IIR filter applied chunk by chunk (state carried over)."""

    def __init__(self, sos: np.ndarray) -> None:
        self.sos = np.ascontiguousarray(sos, dtype=np.float64)
        self.zi: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        if self.zi is None:  # start settled at the first value, not with a step from zero
            if x.size == 0:
                return x
            self.zi = np.ascontiguousarray(signal.sosfilt_zi(self.sos) * x[0])
        out = np.empty_like(x)
        sos_run(self.sos, self.zi, x, out)
        return out


class CausalFir:
    """An FIR filter applied chunk by chunk (history starts at zero)."""

    def __init__(self, taps: np.ndarray) -> None:
        self.taps = np.ascontiguousarray(taps, dtype=np.float64)
        self.hist = np.zeros(self.taps.size)
        self.pos = np.zeros(1, np.int64)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        out = np.empty_like(x)
        fir_run(self.taps, self.hist, self.pos, x, out)
        return out


def bandpass(fs: float, low: float, high: float, order: int = 2) -> CausalSos:
    high = min(high, 0.45 * fs)
    return CausalSos(signal.butter(order, [low, high], btype="bandpass", fs=fs, output="sos"))


def lowpass(fs: float, cutoff: float, order: int = 2) -> CausalSos:
    return CausalSos(signal.butter(order, min(cutoff, 0.45 * fs), btype="lowpass", fs=fs, output="sos"))


def highpass(fs: float, cutoff: float, order: int = 2) -> CausalSos:
    return CausalSos(signal.butter(order, cutoff, btype="highpass", fs=fs, output="sos"))


class RateEstimate:
    """The sampling rate of a stream from its timestamps; `update` says when it is new or moved."""

    def __init__(self) -> None:
        self.fs = 0.0
        self._last_t: float | None = None

    def update(self, t: np.ndarray) -> bool:
        """Fold in a chunk's times; True when the rate is new or moved by more than 20 %."""
        n = t.size
        if n == 0:
            return False
        first, last = float(t[0]), float(t[-1])
        prev, self._last_t = self._last_t, last
        if prev is not None and first > prev:
            span, steps = last - prev, n
        else:
            span, steps = last - first, n - 1
        if steps < 1 or span <= 0.0:
            return False
        if self.fs and steps < 4:  # too few samples to move an established estimate
            return False
        fs = steps / span
        if self.fs == 0.0 or abs(fs - self.fs) > 0.2 * self.fs:
            if self.fs == 0.0 and n > 2 and steps == n - 1:  # jittery first chunk: use the median
                dt = float(np.median(np.diff(t)))
                fs = 1.0 / dt if dt > 0 else fs
            self.fs = fs
            return True
        return False


class Decimator:
    """Low-pass then keep every k-th sample: slow signals at high rates cost little downstream."""

    def __init__(self, fs: float, target: float, cutoff: float) -> None:
        self.step = max(1, int(round(fs / target)))
        self.filter = lowpass(fs, cutoff) if self.step > 1 else None
        self._phase = 0  # index in the next chunk of the next sample kept

    def __call__(self, t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.filter is None:
            return t, np.asarray(x, dtype=np.float64)
        y = self.filter(x)
        start = self._phase
        self._phase = (start - x.size) % self.step
        return t[start::self.step], y[start::self.step]
