"""Causal heartbeat detection from raw ECG and PPG, and heart rate from beat intervals.

Both detectors turn the waveform into a positive energy signal `e` and compare a short
moving average of it with a long one (Elgendi's "blocks of interest"): where the short one
rises above the long one (times a factor, plus a small offset) a block opens; the beat is the
block's maximum, reported when the block closes. ECG: |slope| of the 0.5 Hz high-passed ECG,
windows 0.1 s / 0.75 s, factor 1.5. PPG: squared positive part of the 0.5-8 Hz band-passed
pulse, windows 0.111 s / 0.667 s. Both moving averages are causal: the short one is delayed to
line up with the long one's centre, so beats are reported ~0.4 s late, never by looking ahead.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from scipy import signal

from engine.signals.filters import CausalFir, CausalSos, Decimator, RateEstimate, highpass

PPG_FIR_SECONDS = 3.0  # long enough to reject baseline wander below 0.5 Hz


class Delay:
    """A fixed delay line of n samples across chunks."""

    def __init__(self, n: int, fill: float = 0.0) -> None:
        self.buf = np.full(n, fill)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.buf.size == 0:
            return x
        joined = np.concatenate([self.buf, x])
        self.buf = joined[x.size:]
        return joined[: x.size]


class BlockBeats:
    """Beats as the maxima of blocks where the short average beats the long one."""

    def __init__(self, fs: float, short: float, long: float, factor: float, offset: float,
                 refractory: float, min_width: float) -> None:
        ns, nl = max(1, round(short * fs)), max(2, round(long * fs))
        self.short = CausalFir(np.full(ns, 1.0 / ns))
        self.long = CausalFir(np.full(nl, 1.0 / nl))
        lag = max(0, (nl - ns) // 2)
        self.align = Delay(lag)
        self.align_t = Delay(lag, fill=-math.inf)
        self.center = ns / (2.0 * fs)  # a short average's value describes the time this far back
        self.latency = self.center + lag / fs  # how late blocks are seen
        self.factor, self.offset = factor, offset
        self.refractory, self.min_width = refractory, min_width
        self.mean_e = 0.0  # running mean of the energy, for the offset
        self.n_seen = 0
        self.energy_window = 20.0
        self.t_first = 0.0
        self.in_block = False
        self.block_start = 0.0
        self.peak_v = -math.inf
        self.peak_t = 0.0
        self.last_beat = -math.inf
        self.rr: deque[float] = deque(maxlen=8)

    def process(self, t: np.ndarray, e: np.ndarray) -> list[float]:
        s = self.align(self.short(e))
        ts = self.align_t(t)
        lg = self.long(e)
        n = e.size
        self._energy(t, e)
        cond = s > self.factor * lg + self.offset * self.mean_e
        cond &= np.isfinite(ts)
        beats: list[float] = []
        edges = np.flatnonzero(np.diff(np.concatenate([[self.in_block], cond]).astype(np.int8)))
        start = 0
        for edge in list(edges) + [n]:
            if start < edge and cond[start]:  # inside a block from start to edge
                k = start + int(np.argmax(s[start:edge]))
                if not self.in_block:
                    self.in_block, self.block_start, self.peak_v = True, float(ts[start]), -math.inf
                if s[k] > self.peak_v:
                    self.peak_v, self.peak_t = float(s[k]), float(ts[k])
            if edge < n and not cond[edge] and self.in_block:  # block closes
                self.in_block = False
                if float(ts[edge]) - self.block_start >= self.min_width:
                    tb = self.peak_t - self.center
                    if tb - self.last_beat >= self.refractory:
                        beats.append(self._beat(tb))
            start = edge
        return beats

    def _energy(self, t: np.ndarray, e: np.ndarray) -> None:
        """Mean energy: the running mean over the first 20 s, then a 20 s moving average."""
        self.n_seen += e.size
        if self.n_seen <= e.size or t[-1] - self.t_first < self.energy_window:
            self.t_first = float(t[0]) if self.n_seen <= e.size else self.t_first
            self.mean_e += e.size / self.n_seen * (float(e.mean()) - self.mean_e)
        else:
            a = 1.0 - math.exp(-max(float(t[-1] - t[0]), 0.0) / self.energy_window)
            self.mean_e += a * (float(e.mean()) - self.mean_e)

    def _beat(self, tb: float) -> float:
        if math.isfinite(self.last_beat):
            self.rr.append(tb - self.last_beat)
        self.last_beat = tb
        return tb

    def heart_rate(self) -> float:
        """bpm from the median of the recent beat intervals (nan until two beats)."""
        return 60.0 / float(np.median(self.rr)) if self.rr else math.nan


class _Detector:
    kind = ""

    def __init__(self) -> None:
        self.rate = RateEstimate()
        self.peaks: BlockBeats | None = None

    def build(self, fs: float) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def feature(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def process(self, t: np.ndarray, x: np.ndarray) -> list[float]:
        """Feed a chunk (times in seconds, values); returns the times of beats it completed."""
        if self.rate.update(t):
            old = self.peaks
            self.build(self.rate.fs)
            if old is not None and self.peaks is not None:
                self.peaks.last_beat, self.peaks.rr = old.last_beat, old.rr
        if self.peaks is None or self.rate.fs < 20.0:  # too slow to see a QRS or an upstroke
            return []
        return self.peaks.process(t, self.feature(np.asarray(x, dtype=np.float64)))

    def heart_rate(self) -> float:
        return self.peaks.heart_rate() if self.peaks is not None else math.nan


class EcgBeats(_Detector):
    kind = "ecg"

    def build(self, fs: float) -> None:
        self.hp: CausalSos = highpass(fs, 0.5)
        self.grad = CausalFir(np.array([fs, -fs]))
        self.peaks = BlockBeats(fs, 0.1, 0.75, factor=1.5, offset=0.0, refractory=0.3, min_width=0.02)

    def feature(self, x: np.ndarray) -> np.ndarray:
        return np.abs(self.grad(self.hp(x)))


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

    def process(self, t: np.ndarray, x: np.ndarray) -> list[float]:
        if self.rate.update(t):
            old = self.peaks
            self.build(self.rate.fs)
            if old is not None and self.peaks is not None:
                self.peaks.last_beat, self.peaks.rr = old.last_beat, old.rr
        if self.peaks is None or self.rate.fs < 20.0:
            return []
        td, xd = self.down(t, np.asarray(x, dtype=np.float64))
        if td.size == 0:
            return []
        y = np.maximum(self.bp(xd), 0.0)
        return [b - self.delay for b in self.peaks.process(td, y * y)]


DETECTORS = {"ecg": EcgBeats, "ppg": PpgBeats}
