"""Realistic artifacts injected into real recordings at known times, for evaluating detectors.

Each kind imitates what a sensor does when its wearer moves, seeded so every run is the same:
a movement burst (band-limited noise, several times the signal's spread), clipping (the
amplifier saturates after a baseline jump), a flat line (lead off), an electrode pop (a sharp
step decaying over ~0.4 s), a belt slip (respiration: a level step after which the belt
reads a third of the breath), a large low-frequency swing (a wearer leaning and shifting).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

# seconds per kind; bands are per channel (Hz)
DURATION = {"burst": 3.0, "clipping": 3.0, "flat": 3.0, "pop": 1.0, "belt_slip": 6.0, "swing": 12.0}
BURST_BAND = {"ecg": (5.0, 40.0), "ppg": (0.7, 6.0), "respiration": (1.5, 6.0), "eda": (0.5, 3.0)}
KINDS_FOR = {"ecg": ("burst", "clipping", "flat", "pop"), "ppg": ("burst", "clipping", "flat", "pop"),
             "respiration": ("burst", "clipping", "flat", "belt_slip", "swing"),
             "eda": ("burst", "clipping", "pop")}  # a 3 s flat line is no artifact on a slow quantised EDA


def _band_noise(rng: np.random.Generator, n: int, fs: float, band: tuple[float, float]) -> np.ndarray:
    sos = signal.butter(2, [band[0], min(band[1], 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    z = signal.sosfilt(sos, rng.standard_normal(n + int(fs)))[int(fs):]
    return z / (z.std() + 1e-12)


def inject(x: np.ndarray, fs: float, channel: str, kind: str, starts: list[float],
           seed: int = 0) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """A copy of `x` with one artifact of `kind` at each start (seconds); returns it and the spans."""
    rng = np.random.default_rng(seed)
    y = np.asarray(x, np.float64).copy()
    spread = float(np.percentile(x, 95) - np.percentile(x, 5)) / 2.0
    spans = []
    for start in starts:
        a = int(start * fs)
        n = min(int(DURATION[kind] * fs), y.size - a)
        if n <= 0:
            continue
        seg = y[a:a + n]
        u = np.arange(n) / fs
        if kind == "burst":
            envelope = np.sqrt(np.clip(np.sin(np.pi * u / u[-1]), 0.0, 1.0))  # rises within ~0.2 s
            seg += 3.0 * spread * _band_noise(rng, n, fs, BURST_BAND[channel]) * envelope
        elif kind == "clipping":
            rail = float(np.median(x)) + 1.2 * spread
            y[a:a + n] = np.minimum(seg + 2.0 * spread, rail)
        elif kind == "flat":
            y[a:a + n] = seg[0]
        elif kind == "pop":
            seg += rng.choice([-1.0, 1.0]) * 4.0 * spread * np.exp(-u / 0.4)
        elif kind == "belt_slip":
            base = float(np.mean(seg))
            y[a:a + n] = base + 0.33 * (seg - base) + 2.0 * spread
        elif kind == "swing":
            seg += 3.0 * spread * np.sin(2 * np.pi * u / DURATION[kind]) * np.hanning(n)
        else:
            raise ValueError(f"unknown artifact kind '{kind}'")
        spans.append((start, start + n / fs))
    return y, spans
