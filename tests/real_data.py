"""Real recordings for tests: the excerpts shipped in tests/data (run anywhere) and the
licence-restricted files of ../shared/data (run where present)."""

from __future__ import annotations

import numpy as np

from tests.conftest import ROOT

TEST_DATA = ROOT / "tests" / "data"


def mitbih208_ecg(seconds: float | None = None) -> np.ndarray:
    """MIT-BIH record 208, lead MLII, mV at 360 Hz (90 s shipped; ectopic beats, artefacts)."""
    with np.load(TEST_DATA / "mitbih208_ecg_360hz_90s.npz") as f:
        x = f["ecg_counts"].astype(np.float64) * float(f["mv_per_count"])
    return x if seconds is None else x[: int(round(seconds * 360))]


def pyhrv_ecg_mv() -> np.ndarray:
    """pyhrv's BITalino ECG (22 s at 1000 Hz), 10-bit ADC counts to mV (VCC 3.3 V, gain 1100)."""
    with np.load(TEST_DATA / "pyhrv_ecg_1000hz_adc.npz") as f:
        adc = f["adc"].astype(np.float64)
    return (adc / 1024.0 - 0.5) * 3.3 / 1100.0 * 1000.0
