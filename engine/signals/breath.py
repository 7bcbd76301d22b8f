"""Causal breathing phase and rate from a respiration waveform of any sampling rate."""

from __future__ import annotations

import numpy as np

from engine.signals.filters import CausalSos, Decimator, RateEstimate, highpass
from engine.signals.kernels import breath_run

BREATH_WINDOW = 8.0  # seconds: time constant of the respiration baseline and amplitude
HYSTERESIS = 0.05  # of the amplitude: how far past the baseline counts as a crossing
TRACK_HZ = 25.0  # the tracker runs at this rate whatever the sensor's


class BreathTracker:
    """Causal breathing phase and rate from a respiration waveform.

    For a breath x = m + A·cos(φ) the derivative is −A·ω·sin(φ), so φ = atan2(−ẋ/ω, x − m),
    with the baseline m and amplitude A tracked by slow exponential averages and ω from the
    intervals between upward crossings of the baseline (with a small hysteresis).
    The per-sample update is compiled (`kernels.breath_run`); the state lives in `self.s`.
    """

    def __init__(self) -> None:
        # mean, amp, rate, phase, value, deriv, last_t, last_x, above, last_cross, first_t, started,
        # in_artifact
        self.s = np.array([0.0, 1.0, 14.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.nan, np.nan, 0.0, 0.0])
        self.breaths: list[float] = []  # times of completed breaths since the last drain
        self.periods: list[tuple[float, float]] | None = None  # a list here logs (breath, period) (tools)
        self._out = np.zeros(16)
        self._out_p = np.zeros(16)
        self.seen = False

    mean = property(lambda self: float(self.s[0]))
    amp = property(lambda self: float(self.s[1]))
    rate = property(lambda self: float(self.s[2]))
    phase = property(lambda self: float(self.s[3]))
    value = property(lambda self: float(self.s[4]))

    @property
    def first_t(self) -> float | None:
        return None if self.s[11] == 0.0 else float(self.s[10])

    def ready(self, now: float) -> bool:
        """True once a couple of seconds of waveform have settled the baseline."""
        return self.s[11] != 0.0 and now - self.s[10] >= 2.0

    def push_many(self, t: np.ndarray, x: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Fold in samples; those with mask != 0 are artifact and hold the tracker."""
        self.seen = True
        if mask is None:
            mask = np.zeros(x.size, np.int8)
        n = breath_run(np.ascontiguousarray(t, dtype=np.float64), np.ascontiguousarray(x, dtype=np.float64),
                       np.ascontiguousarray(mask, dtype=np.int8), self.s, BREATH_WINDOW, HYSTERESIS,
                       self._out, self._out_p)
        if n:
            self.breaths += self._out[:n].tolist()
            if self.periods is not None:
                self.periods += list(zip(self._out[:n].tolist(), self._out_p[:n].tolist(), strict=True))

    def push(self, t: float, x: float) -> None:
        self.push_many(np.array([t]), np.array([x]))


class Respiration:
    """Rate-independent front end: low-pass and decimate to 25 Hz, remove drift below 0.05 Hz,
    then feed the tracker. Sensors at 25 Hz or less go straight in (after the drift filter)."""

    def __init__(self) -> None:
        self.tracker = BreathTracker()
        self.rate = RateEstimate()
        self.down: Decimator | None = None
        self.drift: CausalSos | None = None

    def process(self, t: np.ndarray, x: np.ndarray, flags: np.ndarray | None = None) -> None:
        """Feed a chunk; `flags` (per sample, from a QualityTracker) marks artifact samples."""
        if self.rate.update(t) or self.down is None:
            fs = self.rate.fs or TRACK_HZ
            self.down = Decimator(fs, TRACK_HZ if fs > 1.5 * TRACK_HZ else fs, 1.0)
            self.drift = highpass(fs / self.down.step, 0.05)
        start = self.down._phase
        td, xd = self.down(t, np.asarray(x, dtype=np.float64))
        if td.size == 0:
            return
        mask = None
        if flags is not None:  # a kept sample is artifact if any raw sample since the last kept one is
            step = self.down.step
            run = np.maximum.accumulate(np.where(flags != 0, np.arange(flags.size), -step))
            mask = (np.arange(flags.size)[start::step] - run[start::step] < step).astype(np.int8)
        self.tracker.push_many(td, self.drift(xd) if self.drift is not None else xd, mask)
