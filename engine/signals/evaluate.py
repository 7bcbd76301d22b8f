"""Scoring the live detectors on recordings with artifacts at known times (tools and tests).

`run_live` streams a recording through `Signals` in 50 ms chunks, exactly as a show would, and
collects what the detectors accepted (beat intervals or breath periods), the quality index
every 0.25 s and the artifact spans found. `run_ungated` runs the same detectors with quality
gating off (the detectors as they were before it). Rates are compared on the clean parts:
intervals whose ends both lie outside the injected spans (neurokit2's offline peaks on the
untouched recording are the reference).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from engine.data import Chunk
from engine.signals.breath import Respiration
from engine.signals.cardiac import DETECTORS
from engine.signals.core import Signals

WARMUP = 12.0  # seconds ignored at the start by every method (the quality references settle)
RECOVERY = 3.0  # seconds after an injected span that count neither as artifact nor clean for AUC
CHUNK = 0.05


def run_live(channel: str, x: np.ndarray, fs: float) -> dict:
    sig = Signals(max_participants=1, stale_after=1e9, left_after=1e9, ring_size=max(4096, int(3 * fs)))
    t = np.arange(x.size) / fs
    n = max(1, int(CHUNK * fs))
    qt, qv, log = [], [], None
    for k, i in enumerate(range(0, x.size, n)):
        now = float(t[min(i + n, x.size) - 1])
        chunk = Chunk("p01", channel, t[i:i + n], x[i:i + n].astype(np.float32))
        frame = sig.update([chunk], [], now, k, CHUNK)
        st = sig._states["p01"]
        if log is None:
            if channel == "respiration":
                log = st.resp.tracker.periods = []
            elif channel in st.detectors and st.detectors[channel].peaks is not None:
                log = st.detectors[channel].peaks.rr_log = []
        if k % 5 == 4:
            qt.append(now)
            qv.append(frame.participants[0].quality.get(channel, math.nan))
    st = sig._states["p01"]
    q = st.quality[channel]
    pairs = np.asarray(log or [], np.float64).reshape(-1, 2)
    return {"pairs": pairs[pairs[:, 0] - pairs[:, 1] > WARMUP], "q_t": np.asarray(qt), "q": np.asarray(qv),
            "spans": [(a, b) for a, b, _ in q.spans], "rejected": q.rejected, "kinds": dict(q.kinds)}


def run_ungated(channel: str, x: np.ndarray, fs: float) -> np.ndarray:
    """Event times (s) from the detector without quality gating, as main had it."""
    t = np.arange(x.size) / fs
    n = max(1, int(CHUNK * fs))
    if channel == "respiration":
        resp = Respiration()
        resp.tracker.periods = []
        times: list[float] = []
        for i in range(0, x.size, n):
            resp.process(t[i:i + n], x[i:i + n])
            times += resp.tracker.breaths
            resp.tracker.breaths.clear()
        return np.asarray(times)
    det = DETECTORS[channel]()
    return np.asarray([b for i in range(0, x.size, n) for b in det.process(t[i:i + n], x[i:i + n])])


def pairs_of(times: np.ndarray) -> np.ndarray:
    """(end, length) of the intervals between consecutive events after the warm-up."""
    times = np.asarray(times, np.float64)
    p = np.stack([times[1:], np.diff(times)], axis=1) if times.size > 1 else np.zeros((0, 2))
    return p[p[:, 0] - p[:, 1] > WARMUP]


def reference_times(channel: str, x: np.ndarray, fs: float) -> np.ndarray:
    """neurokit2's offline peaks (seconds): R peaks, PPG peaks, or inhale peaks."""
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if channel == "ecg":
            _, info = nk.ecg_peaks(nk.ecg_clean(x, sampling_rate=fs), sampling_rate=fs)
            return np.asarray(info["ECG_R_Peaks"]) / fs
        if channel == "ppg":
            _, info = nk.ppg_peaks(nk.ppg_clean(x, sampling_rate=fs), sampling_rate=fs)
            return np.asarray(info["PPG_Peaks"]) / fs
        _, info = nk.rsp_process(x, sampling_rate=fs)
        return np.asarray(info["RSP_Peaks"]) / fs


def clean_part(pairs: np.ndarray, spans: list[tuple[float, float]], margin: float = 0.5) -> np.ndarray:
    """Lengths of the intervals (end, length) that touch no injected span: the clean parts."""
    b = pairs[:, 0]
    a = b - pairs[:, 1]
    ok = np.ones(b.size, bool)
    for s0, s1 in spans:
        ok &= (b < s0 - margin) | (a > s1 + margin)
    return pairs[ok, 1]


def rate(intervals: np.ndarray, channel: str, nn: bool = False) -> float:
    """Events per minute from intervals: physiological limits, and with `nn` within 30 % of the median."""
    lo, hi = (0.3, 2.0) if channel != "respiration" else (1.0, 20.0)
    iv = np.asarray(intervals)
    iv = iv[(iv > lo) & (iv < hi)]
    if nn and iv.size:
        iv = iv[np.abs(iv - np.median(iv)) < 0.3 * np.median(iv)]
    return 60.0 / float(iv.mean()) if iv.size >= 3 else math.nan


def quality_auc(q_t: np.ndarray, q: np.ndarray, spans: list[tuple[float, float]]) -> float:
    """AUC of (1 - quality) separating injected-artifact times from clean ones (recovery excluded)."""
    art = np.zeros(q_t.size, bool)
    near = np.zeros(q_t.size, bool)
    for s0, s1 in spans:
        art |= (q_t >= s0) & (q_t <= s1)
        near |= (q_t > s1) & (q_t <= s1 + RECOVERY)
    keep = (q_t > WARMUP) & ~near & np.isfinite(q)
    pos, neg = 1.0 - q[keep & art], 1.0 - q[keep & ~art]
    if pos.size == 0 or neg.size == 0:
        return math.nan
    allv = np.concatenate([pos, neg])
    # average ranks for ties (Mann-Whitney U)
    order = np.argsort(allv, kind="stable")
    sv = allv[order]
    _, first, counts = np.unique(sv, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0  # 1-based mean rank of each group of ties
    ranks = np.empty_like(allv)
    ranks[order] = np.repeat(avg, counts)
    u = ranks[:pos.size].sum() - pos.size * (pos.size + 1) / 2.0
    return float(u / (pos.size * neg.size))
