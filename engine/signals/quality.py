"""Causal signal quality per channel (0..1) and the artifact spans detectors skip.

`QualityTracker` runs `artifacts.artifact_run` on the raw samples of one channel and keeps the
spans of recent artifacts so that a detector, whose output trails the waveform by its latency,
can drop beats and breaths that fall inside one. For ECG and PPG the index also includes how
well each detected beat matches the running beat template (Pearson correlation, the field's
"template matching" SQI: a clean beat correlates above 0.9, a beat found in noise far below).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from engine.signals.artifacts import KINDS, NSTATE, artifact_run

# tau_base, tau_short, tau_long, tau_amp, k_burst, k_step, k_swing, k_dropout, flat_min, clip_min,
# hold, warm, relearn, q_down, q_up, peak_tau, tau_mid, k_drift, tau_slow, drift_min, drift_soft,
# drift_learn (the meanings: engine.signals.artifacts; the belt's tau_mid follows its breathing, see
# breath_rate)
SWING_FRAC = 0.175  # belt: the breath-averaged level's time constant, in breath periods
# belt drift_soft 1.2: the two-stage level keeps ~45 % of a breath, so clean breathing whose speed
# changes reads up to ~1.2 breath sizes off the slow level (a real belt's slow wander too); the
# graded movement factor starts there and falls over about a breath (artifacts.SOFT_FALL). The
# breath size still stops learning at 0.8 (drift_learn) so that a swing's start cannot inflate it
# (see docs/signals.md, "Breathing under slow swings")
PARAMS = {
    "ecg": (0.5, 1.0, 20.0, 1.0, 4.0, 3.0, 4.0, 0.15, 0.15, 0.06, 1.0, 5.0, 10.0, 0.1, 1.5, 3.0, 0.5, 1e9,
            10.0, 1.0, 1e9, 1e9),
    "ppg": (1.5, 1.0, 20.0, 1.0, 3.0, 4.0, 3.0, 0.2, 0.2, 0.08, 1.0, 5.0, 10.0, 0.1, 1.5, 3.0, 1.5, 1e9,
            10.0, 1.0, 1e9, 1e9),
    "respiration": (10.0, 0.5, 30.0, 3.0, 4.5, 5.0, 3.0, 0.2, 0.6, 0.3, 2.0, 12.0, 20.0, 0.1, 2.0, 6.0,
                    0.7, 2.0, 10.0, 0.5, 1.2, 0.8),
    "eda": (20.0, 1.0, 60.0, 5.0, 8.0, 20.0, 50.0, 0.0, 60.0, 5.0, 2.0, 10.0, 30.0, 0.2, 3.0, 10.0,
            20.0, 1e9, 60.0, 1.0, 1e9, 1e9),
}
QUALITY_CHANNELS = tuple(PARAMS)
SPAN_MEMORY = 60.0  # seconds of closed spans kept for detectors reporting late
TEMPLATE_BEATS = 8  # beats averaged into the template
SHAPE_POINTS = 80  # a beat's window, resampled: 64 points of shape and 8 either side for shifts
SHIFT = 8


class QualityTracker:
    """Artifact spans and a 0..1 quality for one channel of one participant."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.params = np.array(PARAMS[channel], np.float64)
        self.s = np.zeros(NSTATE)
        self.s[11] = self.s[16] = math.nan
        self.s[13], self.s[24] = 0.5, 1.0  # not known yet: a newcomer is neither trusted nor doubted
        self.spans: deque[tuple[float, float, int]] = deque()
        self.kinds: dict[str, int] = {}  # artifact spans seen, by kind
        self._spans = np.zeros((16, 3))
        self._buf = np.zeros(0, np.int8), np.zeros(0)
        self.match = math.nan  # template correlation of the latest beat (ECG/PPG)
        self._template: np.ndarray | None = None
        self._beats = 0
        self._matches: deque[float] = deque(maxlen=3)

    @property
    def signal(self) -> float:
        """Quality from artifact detection alone (0 in and just after artifacts, else 1)."""
        return float(self.s[13] * self.s[24])

    @property
    def quality(self) -> float:
        q = self.signal
        if math.isfinite(self.match):  # a beat shape that stopped matching the template lowers it
            q *= min(max((self.match - 0.5) / 0.4, 0.0), 1.0)
        return q

    @property
    def rejected(self) -> float:
        """Share of the time seen so far that lay in artifact spans (skipped by the detectors)."""
        return float(self.s[17] / self.s[18]) if self.s[18] > 0 else 0.0

    @property
    def open_since(self) -> float | None:
        return None if math.isnan(self.s[11]) else float(self.s[11])

    @property
    def current(self) -> list[str]:
        """The kinds of the artifact span open now (empty if none)."""
        if math.isnan(self.s[11]):
            return []
        return [name for bit, name in KINDS.items() if int(self.s[15]) & bit]

    def process(self, t: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Fold in a chunk; returns each sample's artifact flags (0: clean)."""
        n = x.size
        if self._buf[0].size < n:
            self._buf = np.zeros(max(n, 256), np.int8), np.zeros(max(n, 256))
        flags, qual = self._buf[0][:n], self._buf[1][:n]
        k = artifact_run(np.ascontiguousarray(t, dtype=np.float64), np.ascontiguousarray(x, dtype=np.float64),
                         self.s, self.params, flags, qual, self._spans)
        for a, b, kinds in self._spans[:k].tolist():
            self.spans.append((a, b, int(kinds)))
            for bit, name in KINDS.items():
                if int(kinds) & bit:
                    self.kinds[name] = self.kinds.get(name, 0) + 1
        if n and self.spans:
            while self.spans and self.spans[0][1] < t[-1] - SPAN_MEMORY:
                self.spans.popleft()
        return flags

    def breath_rate(self, per_min: float) -> None:
        """Belt: scale the breath-averaged level's time constant to the breathing (a slow breath
        must not look like a swing, nor a swing hide behind fast breaths)."""
        if math.isfinite(per_min) and per_min > 0.0:
            self.params[16] = min(max(SWING_FRAC * 60.0 / per_min, 0.4), 2.0)

    def artifact_between(self, a: float, b: float) -> bool:
        """True if an artifact span (closed or still open) overlaps [a, b]."""
        if not math.isnan(self.s[11]) and b >= self.s[11]:
            return True
        return any(s0 <= b and s1 >= a for s0, s1, _ in reversed(self.spans))

    def beat_shape(self, window: np.ndarray) -> None:
        """Correlate a beat's waveform with the template (best of small shifts, as the detector's
        beat time jitters by a few samples), then teach the template if it looks like a beat.

        `window` is the beat resampled to SHAPE_POINTS points, of which the template covers the
        middle ones (the rest is room to shift)."""
        if window.size != SHAPE_POINTS or not np.all(np.isfinite(window)):
            return
        k = SHIFT
        mid = window[k:window.size - k]
        tpl = self._template
        if tpl is None:
            self._template, self._beats = _unit(mid), 1
            return
        best = max(float(_unit(window[j:j + mid.size]) @ tpl) for j in range(0, 2 * k + 1, 2))
        self._matches.append(best)
        self.match = float(np.median(self._matches))  # one odd beat (an ectopic) is not noise
        if best > 0.5:  # only beats that look like beats teach the template
            self._beats = min(self._beats + 1, TEMPLATE_BEATS)
            tpl += (_unit(mid) - tpl) / self._beats
            tpl /= max(float(np.sqrt(tpl @ tpl)), 1e-12)


def _unit(w: np.ndarray) -> np.ndarray:
    w = w - w.mean()
    n = float(np.sqrt(w @ w))
    return w / n if n > 0.0 else w
