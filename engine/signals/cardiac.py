"""Causal heartbeat detection from raw ECG and PPG, and heart rate from beat intervals.

Both detectors turn the waveform into a positive energy signal `e` and compare a short
moving average of it with a long one (Elgendi's "blocks of interest"): where the short one
rises above the long one (times a factor, plus a small offset) a block opens; the beat is the
block's maximum, reported when the block closes. ECG: |slope| of the 0.5 Hz high-passed ECG,
windows 0.1 s / 0.75 s, factor 1.5. PPG: squared positive part of the 0.5-8 Hz band-passed
pulse (a linear-phase FIR, so the pulse keeps its shape: IIR phase distortion split and merged
beats on real recordings), windows 0.111 s / 0.667 s. Both moving averages are causal: the
short one is delayed to line up with the long one's centre. Beats are therefore reported late
(ECG ~0.4 s, PPG ~1.9 s, the FIR's delay included), with their true times, never by looking ahead.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from scipy import signal

from engine.signals.filters import CausalFir, CausalSos, Decimator, RateEstimate, highpass
from engine.signals.kernels import blocks_run
from engine.signals.quality import QualityTracker

PPG_FIR_SECONDS = 3.0  # long enough to reject baseline wander below 0.5 Hz
GUARD = 0.25  # seconds: a beat this close to an artifact span is not trusted...
RHYTHM = 0.15  # ...unless it comes within this share of the median interval after the last beat


class BlockBeats:
    """Beats as the maxima of blocks where the short average beats the long one."""

    def __init__(self, fs: float, short: float, long: float, factor: float, offset: float,
                 refractory: float, min_width: float, energy_window: float = 20.0) -> None:
        ns, nl = max(1, round(short * fs)), max(2, round(long * fs))
        lag = max(0, (nl - ns) // 2)
        self.center = ns / (2.0 * fs)  # a short average's value describes the time this far back
        self.latency = self.center + lag / fs  # how late blocks are seen
        self.params = np.array([factor, offset, refractory, min_width, self.center, energy_window])
        self.f = np.zeros(11)
        self.f[9] = -np.inf  # last beat
        self.ip = np.zeros(3, np.int64)
        self.rings = (np.zeros(ns), np.zeros(nl), np.zeros(lag), np.full(lag, -np.inf))
        self._out = np.zeros(64)
        self.rr: deque[float] = deque(maxlen=8)
        self.rr_log: list[tuple[float, float]] | None = None  # a list here logs (beat, interval) (tools)
        self.rejected = 0  # beats dropped because they fell in an artifact span
        self.last_ok = -math.inf  # the last beat reported (true time)

    @property
    def last_beat(self) -> float:
        return float(self.f[9])

    @last_beat.setter
    def last_beat(self, value: float) -> None:
        self.f[9] = value

    def process(self, t: np.ndarray, e: np.ndarray, quality: QualityTracker | None = None,
                shift: float = 0.0) -> list[float]:
        """Beats (true times, minus `shift`) completed by this chunk of energy.

        With a quality tracker, a beat within GUARD seconds of an artifact span is dropped unless
        it falls where the rhythm expects the next beat, and an interval that touches an artifact
        is never used for the rate (beats are reported at least the detector's latency late, so
        the spans around them are already known)."""
        prev = self.last_ok
        n = blocks_run(t, np.ascontiguousarray(e, dtype=np.float64), self.f, self.ip, *self.rings,
                       self.params, self._out)
        beats = []
        for tb in (self._out[:n] - shift).tolist():
            if quality is not None and quality.artifact_between(tb - GUARD, tb + GUARD):
                if not self._in_rhythm(tb, prev):  # noise, not a heart: keep the glow dark
                    self.rejected += 1
                    continue
                prev, beats = tb, [*beats, tb]  # where the rhythm expects a beat: shown, not timed
                continue
            if math.isfinite(prev) and (quality is None or not quality.artifact_between(prev, tb)):
                self.rr.append(tb - prev)
                if self.rr_log is not None:
                    self.rr_log.append((tb, tb - prev))
            prev = tb
            beats.append(tb)
        self.last_ok = prev
        return beats

    def _in_rhythm(self, tb: float, prev: float) -> bool:
        """True if a beat comes one or two median intervals (within RHYTHM) after the last one."""
        if len(self.rr) < 3 or not math.isfinite(prev):
            return False
        med = float(np.median(self.rr))
        gap = tb - prev
        return abs(gap - med) < RHYTHM * med or abs(gap - 2.0 * med) < RHYTHM * med

    def heart_rate(self) -> float:
        """bpm from the median of the recent beat intervals (nan until two beats)."""
        return 60.0 / float(np.median(self.rr)) if self.rr else math.nan


class _Detector:
    """Rate tracking and rebuilding shared by both detectors (filters depend on the rate)."""

    kind = ""

    def __init__(self) -> None:
        self.rate = RateEstimate()
        self.peaks: BlockBeats | None = None
        self.quality: QualityTracker | None = None

    def build(self, fs: float) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def beats(self, t: np.ndarray, x: np.ndarray,
              flags: np.ndarray | None) -> list[float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def process(self, t: np.ndarray, x: np.ndarray, flags: np.ndarray | None = None,
                quality: QualityTracker | None = None) -> list[float]:
        """Feed a chunk (times in seconds, values); returns the times of beats it completed.

        `flags` and `quality` (from a QualityTracker fed the same chunk first) make the
        detector skip artifact spans."""
        self.quality = quality
        if self.rate.update(t):
            old = self.peaks
            if self.rate.fs >= 20.0:  # slower sampling cannot show a QRS or an upstroke
                self.build(self.rate.fs)
            else:  # and its filters cannot be designed (PPG's band reaches 8 Hz)
                self.peaks = None
            if old is not None and self.peaks is not None:
                self.peaks.last_beat, self.peaks.rr = old.last_beat, old.rr
                self.peaks.last_ok, self.peaks.rr_log = old.last_ok, old.rr_log
        if self.peaks is None or self.rate.fs < 20.0:  # too slow to see a QRS or an upstroke
            return []
        return self.beats(t, np.asarray(x, dtype=np.float64), flags)

    def heart_rate(self) -> float:
        return self.peaks.heart_rate() if self.peaks is not None else math.nan


class EcgBeats(_Detector):
    kind = "ecg"

    def build(self, fs: float) -> None:
        self.hp: CausalSos = highpass(fs, 0.5)
        self.fs = fs
        self.prev: float | None = None
        self.peaks = BlockBeats(fs, 0.1, 0.75, factor=1.5, offset=0.0, refractory=0.3, min_width=0.02)

    def beats(self, t: np.ndarray, x: np.ndarray, flags: np.ndarray | None) -> list[float]:
        y = self.hp(x)
        if y.size == 0:
            return []
        first = y[0] if self.prev is None else self.prev
        self.prev = float(y[-1])
        g = np.empty_like(y)  # |slope| in mV/s
        g[0] = y[0] - first
        np.subtract(y[1:], y[:-1], out=g[1:])
        assert self.peaks is not None
        e = np.abs(g, out=g) * self.fs
        if flags is not None:  # artifact energy would swamp the long average after it
            e[flags != 0] = 0.0
        return self.peaks.process(t, e, self.quality)


class PpgBeats(_Detector):
    kind = "ppg"

    def build(self, fs: float) -> None:
        self.down = Decimator(fs, 100.0, 12.0)  # a pulse needs no more than ~100 Hz
        fd = fs / self.down.step
        taps = signal.firwin(int(PPG_FIR_SECONDS * fd) | 1, [0.5, 8.0], pass_zero=False, fs=fd)
        self.bp = CausalFir(taps)  # linear phase: the pulse keeps its shape, just later
        self.delay = (taps.size - 1) / 2.0 / fd
        self.peaks = BlockBeats(fd, 0.111, 0.667, factor=1.0, offset=0.02, refractory=0.3,
                                min_width=0.111)

    def beats(self, t: np.ndarray, x: np.ndarray, flags: np.ndarray | None) -> list[float]:
        td, xd = self.down(t, x)
        if td.size == 0:
            return []
        y = np.maximum(self.bp(xd), 0.0)
        assert self.peaks is not None
        return self.peaks.process(td, y * y, self.quality, self.delay)


DETECTORS = {"ecg": EcgBeats, "ppg": PpgBeats}
