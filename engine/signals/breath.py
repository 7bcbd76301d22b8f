"""Causal breathing phase and rate from a respiration waveform of any sampling rate."""

from __future__ import annotations

import math

import numpy as np

from engine.signals.filters import CausalSos, Decimator, RateEstimate, highpass

BREATH_WINDOW = 8.0  # seconds: time constant of the respiration baseline and amplitude
HYSTERESIS = 0.05  # of the amplitude: how far past the baseline counts as a crossing
TRACK_HZ = 25.0  # the tracker runs at this rate whatever the sensor's


class BreathTracker:
    """Causal breathing phase and rate from a respiration waveform.

    For a breath x = m + A·cos(φ) the derivative is −A·ω·sin(φ), so φ = atan2(−ẋ/ω, x − m),
    with the baseline m and amplitude A tracked by slow exponential averages and ω from the
    intervals between upward crossings of the baseline.
    """

    def __init__(self) -> None:
        self.mean = 0.0
        self.amp = 1.0
        self.rate = 14.0  # breaths per minute
        self.phase = 0.0
        self.value = 0.0
        self.deriv = 0.0
        self._last_t: float | None = None
        self._last_x = 0.0
        self._above = False
        self._last_cross: float | None = None
        self.breaths: list[float] = []  # times of completed breaths since the last drain
        self.first_t: float | None = None
        self.seen = False

    def ready(self, now: float) -> bool:
        """True once a couple of seconds of waveform have settled the baseline."""
        return self.first_t is not None and now - self.first_t >= 2.0

    def push(self, t: float, x: float) -> None:
        self.seen = True
        if self._last_t is None:
            self.mean, self._last_t, self._last_x, self.first_t = x, t, x, t
            return
        dt = t - self._last_t
        if dt <= 0.0:
            return
        a = min(dt / BREATH_WINDOW, 1.0)
        self.mean += a * (x - self.mean)
        self.amp += a * (abs(x - self.mean) * math.pi / 2.0 - self.amp)
        d = (x - self._last_x) / dt
        self.deriv += min(dt / 0.2, 1.0) * (d - self.deriv)
        self._last_t, self._last_x = t, x
        centred = x - self.mean
        hysteresis = HYSTERESIS * self.amp
        if not self._above and centred > hysteresis:
            self._above = True
            if self._last_cross is not None:
                period = t - self._last_cross
                if 1.0 < period < 30.0:  # 2..60 breaths per minute
                    self.rate += 0.3 * (60.0 / period - self.rate)
                    self.breaths.append(t)
            self._last_cross = t
        elif self._above and centred < -hysteresis:
            self._above = False
        omega = 2.0 * math.pi * self.rate / 60.0
        self.phase = math.atan2(-self.deriv / omega, centred) % (2.0 * math.pi)
        self.value = max(-1.5, min(1.5, centred / max(self.amp, 1e-6)))


class Respiration:
    """Rate-independent front end: low-pass and decimate to 25 Hz, remove drift below 0.05 Hz,
    then feed the tracker. Sensors at 25 Hz or less go straight in (after the drift filter)."""

    def __init__(self) -> None:
        self.tracker = BreathTracker()
        self.rate = RateEstimate()
        self.down: Decimator | None = None
        self.drift: CausalSos | None = None

    def process(self, t: np.ndarray, x: np.ndarray) -> None:
        if self.rate.update(t) or self.down is None:
            fs = self.rate.fs or TRACK_HZ
            self.down = Decimator(fs, TRACK_HZ if fs > 1.5 * TRACK_HZ else fs, 1.0)
            self.drift = highpass(fs / self.down.step, 0.05)
        td, xd = self.down(t, np.asarray(x, dtype=np.float64))
        if td.size == 0:
            return
        xd = self.drift(xd) if self.drift is not None else xd
        push = self.tracker.push
        for ti, xi in zip(td.tolist(), xd.tolist(), strict=True):
            push(ti, xi)
