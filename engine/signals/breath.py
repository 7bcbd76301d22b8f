"""Causal breathing phase and rate from a respiration waveform of any sampling rate."""

from __future__ import annotations

import numpy as np

from engine.signals.filters import CausalSos, Decimator, RateEstimate, highpass
from engine.signals.kernels import breath_run

BREATH_WINDOW = 8.0  # seconds: time constant of the respiration baseline and amplitude
HYSTERESIS = 0.3  # of the peak-to-trough amplitude: how far a peak must be left to count (as neurokit2)
TRACK_HZ = 25.0  # the tracker runs at this rate whatever the sensor's
DRIFT_HZ = 0.05  # slower than breathing: baseline drift and posture


class BreathTracker:
    """Causal breathing phase and rate from a respiration waveform.

    For a breath x = m + A·cos(φ) the derivative is −A·ω·sin(φ), so φ = atan2(−ẋ/ω, x − m),
    with the baseline m and amplitude A tracked by slow exponential averages and ω from the
    intervals between inhale peaks. A peak counts once the signal has fallen 30 % of a breath's
    depth (2A) below it after a trough as deep: the breath event carries the peak's time and
    is reported that much later (about a third of a breath), never by looking further ahead.
    The per-sample update is compiled (`kernels.breath_run`); the state lives in `self.s`.
    """

    def __init__(self) -> None:
        # mean, amp, rate, phase, value, deriv, last_t, last_x, above, last_cross, first_t, started,
        # in_artifact, extreme, extreme_t, looking, last_peak, last_trough, depth
        self.s = np.array([0.0, 1.0, 14.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.nan, np.nan, 0.0, 0.0,
                           0.0, 0.0, 1.0, np.nan, np.nan, 0.0])
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
        self._held = False  # the last sample seen was artifact

    def process(self, t: np.ndarray, x: np.ndarray, flags: np.ndarray | None = None) -> None:
        """Feed a chunk; `flags` (per sample, from a QualityTracker) marks artifact samples."""
        if self.rate.update(t) or self.down is None:
            fs = self.rate.fs or TRACK_HZ
            self.down = Decimator(fs, TRACK_HZ if fs > 1.5 * TRACK_HZ else fs, 1.0)
            self.drift = highpass(fs / self.down.step, DRIFT_HZ)
        start = self.down._phase
        td, xd = self.down(t, np.asarray(x, dtype=np.float64))
        if td.size == 0:
            return
        mask = None
        if flags is not None:  # a kept sample is artifact if any raw sample since the last kept one is
            step = self.down.step
            run = np.maximum.accumulate(np.where(flags != 0, np.arange(flags.size), -step))
            mask = (np.arange(flags.size)[start::step] - run[start::step] < step).astype(np.int8)
        if self.drift is None:
            self.tracker.push_many(td, xd, mask)
            return
        if mask is None or not mask.any():
            self._held = False
            self.tracker.push_many(td, self.drift(xd), mask)
            return
        # the drift filter would ring for seconds after an artifact's step (a belt slip moves the
        # level): it restarts, settled, at the first clean sample after each artifact
        y = np.empty_like(xd)
        edges = np.flatnonzero(np.diff(np.r_[1 if self._held else 0, mask]) < 0)  # artifact -> clean
        a = 0
        for b in (*edges.tolist(), xd.size):
            if a in edges:
                self.drift.zi = None
            y[a:b] = self.drift(xd[a:b]) if b > a else y[a:b]
            a = b
        self._held = bool(mask[-1])
        self.tracker.push_many(td, y, mask)
