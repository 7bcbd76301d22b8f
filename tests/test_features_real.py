"""The causal detectors against an independent implementation (neurokit2) on real recordings.

Every real recording with ECG, PPG or respiration streams through `Signals` in 50 ms chunks,
as it would live: the ECG excerpts shipped in tests/data run anywhere, the GPL recordings of
../shared/data where it is present. Mean heart rate must agree with neurokit2 within 2 bpm and mean
breathing rate within 1.5 breaths/min. Both sides' beat lists get the same cleaning before the
mean (normal-to-normal intervals: 0.3-2 s and within 30 % of the median), because several of
these recordings contain stretches without a signal (heartpy data2 starts with ~45 s of flat
line and saturation) where any two detectors disagree about noise, not about hearts.
"""

from __future__ import annotations

import bz2
import warnings

import numpy as np
import pytest

from engine.data import Chunk
from engine.signals import Signals
from engine.signals.evaluate import reference_times
from tests.conftest import SHARED_DATA
from tests.real_data import mitbih208_ecg, pyhrv_ecg_mv

nk = pytest.importorskip("neurokit2")

WARMUP = 5.0  # seconds both sides ignore at the start


def _shared(name: str):
    """A file of ../shared/data (GPL: not shipped), or a skip saying so."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"{name} (GPL, not shipped in tests/data) is absent: ../shared/data")
    return path


def _pyphysio() -> np.ndarray:
    with bz2.open(_shared("pyphysio_medical_ecg_eda_bvp_resp_2048hz.txt.bz2"), "rt") as f:
        return np.loadtxt(f)


def _csv_ppg(name: str, time_col: str) -> tuple[np.ndarray, float]:
    import pandas as pd

    df = pd.read_csv(_shared(name))
    if time_col == "timer":
        fs = 1000.0 / float(np.median(np.diff(df["timer"].to_numpy())))
    else:  # datetime stamps at ms resolution, often repeated: use the mean rate
        stamps = pd.to_datetime(df[time_col], format="ISO8601")
        t = (stamps - stamps.iloc[0]).dt.total_seconds().to_numpy()  # any datetime resolution
        fs = (t.size - 1) / (t[-1] - t[0])
    return df["hr"].to_numpy(np.float64), fs


def _recording(name: str) -> tuple[str, np.ndarray, float]:
    if name == "pyphysio_ecg":
        return "ecg", _pyphysio()[:, 0], 2048.0
    if name == "pyphysio_ppg":
        return "ppg", _pyphysio()[:, 2], 2048.0
    if name == "mitbih208":  # shipped: 90 s
        return "ecg", mitbih208_ecg(), 360.0
    if name == "pyhrv":  # shipped
        return "ecg", pyhrv_ecg_mv(), 1000.0
    if name == "heartpy_117hz":
        return ("ppg", *_csv_ppg("heartpy_ppg_117hz.csv", "timer"))
    return ("ppg", *_csv_ppg("heartpy_ppg_100hz_long.csv", "datetime"))


def stream(channel: str, x: np.ndarray, fs: float, kinds: tuple[str, ...]) -> dict[str, list[float]]:
    """Feed a recording through Signals in 50 ms chunks; returns event times by kind."""
    sig = Signals(max_participants=1, stale_after=1e9, left_after=1e9)
    t = np.arange(x.size) / fs
    n = max(1, int(0.05 * fs))
    out: dict[str, list[float]] = {k: [] for k in kinds}
    for k, i in enumerate(range(0, x.size, n)):
        chunk = Chunk("p01", channel, t[i:i + n], x[i:i + n].astype(np.float32))
        frame = sig.update([chunk], [], float(t[min(i + n, x.size - 1)]), k, 0.05)
        for ev in frame.events:
            if ev.kind in out:
                out[ev.kind].append(ev.t)
    return out


def nn_rate(times: np.ndarray) -> float:
    """Mean rate (per minute) over normal-to-normal intervals after the warm-up."""
    times = np.asarray(times)
    rr = np.diff(times[times > WARMUP])
    med = np.median(rr)
    ok = (rr > 0.3) & (rr < 2.0) & (np.abs(rr - med) < 0.3 * med)
    assert ok.sum() > 10
    return 60.0 / float(rr[ok].mean())


def reference_beats(channel: str, x: np.ndarray, fs: float) -> np.ndarray:
    return reference_times(channel, x, fs)  # neurokit2's offline peaks, as the evidence table uses


@pytest.mark.parametrize("name", ["pyphysio_ecg", "pyphysio_ppg", "mitbih208", "pyhrv", "heartpy_117hz",
                                  "heartpy_100hz_long"])
def test_heart_rate_matches_neurokit2(name):
    channel, x, fs = _recording(name)
    ours = np.asarray(stream(channel, x, fs, ("beat",))["beat"])
    ref = reference_beats(channel, x, fs)
    hr_ours, hr_ref = nn_rate(ours), nn_rate(ref)
    print(f"{name}: ours {hr_ours:.2f} bpm ({ours.size} beats), neurokit2 {hr_ref:.2f} bpm ({ref.size})")
    assert abs(hr_ours - hr_ref) < 2.0
    if channel == "ecg":  # clean enough that the plain mean agrees too, over the stretches where
        # beats were reported (beats inside artifact spans are withheld: a gap, not a slow heart)
        def plain(b):
            d = np.diff(b[b > WARMUP])
            return 60 / d[d < 2.0].mean()
        assert abs(plain(ours) - plain(ref)) < 2.0


def test_breathing_rate_matches_neurokit2():
    x, fs = _pyphysio()[:, 3], 2048.0
    breaths = np.asarray(stream("respiration", x, fs, ("breath",))["breath"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, info = nk.rsp_process(x, sampling_rate=fs)
    ref = np.asarray(info["RSP_Peaks"]) / fs
    ours_rate = 60.0 / np.diff(breaths[breaths > WARMUP]).mean()
    ref_rate = 60.0 / np.diff(ref[ref > WARMUP]).mean()
    print(f"breathing: ours {ours_rate:.2f}/min ({breaths.size}), neurokit2 {ref_rate:.2f}/min ({ref.size})")
    assert abs(ours_rate - ref_rate) < 1.5


def test_untouched_real_belt_keeps_its_quality():
    """The real belt's breathing is clean but uneven (11-24 /min, a slow wander of about a breath):
    its quality must stay high on average, though its one deep sigh (~41 s) is flagged as a swing."""
    from engine.signals import evaluate as ev

    live = ev.run_live("respiration", _pyphysio()[:, 3], 2048.0)
    q = live["q"][live["q_t"] > 20.0]
    print(f"untouched belt: quality mean {q.mean():.3f}, rejected {live['rejected']:.3f}, {live['kinds']}")
    assert q.mean() >= 0.9 and live["rejected"] < 0.05


def test_eda_tonic_and_phasic_on_real_skin_conductance():
    x = _pyphysio()[:, 1]
    sig = Signals(max_participants=1, stale_after=1e9, left_after=1e9)
    fs, n = 2048.0, 102
    t = np.arange(x.size) / fs
    tonic, phasic, scr = [], [], 0
    for k, i in enumerate(range(0, x.size, n)):
        frame = sig.update([Chunk("p01", "eda", t[i:i + n], x[i:i + n].astype(np.float32))], [],
                           float(t[min(i + n, x.size - 1)]), k, 0.05)
        p = frame.participants[0]
        tonic.append(p.eda_tonic)
        phasic.append(p.eda_phasic)
        scr += sum(ev.kind == "scr" for ev in frame.events)
    tonic, phasic = np.array(tonic[200:]), np.array(phasic[200:])
    level = x[np.arange(0, x.size, n)][200:len(tonic) + 200]
    assert np.all(phasic >= 0.0) and np.all(np.isfinite(tonic))
    assert np.mean(tonic <= level + 0.05) > 0.99  # the tonic level rides below the signal
    assert np.median(np.abs(tonic - level)) < 0.05  # ... and close to it: responses are small here
    assert 3 <= scr <= 30  # a handful of responses per minute, not every wiggle


def test_eda_quality_on_real_skin_conductance():
    """The EDA quality index on a real recording: the untouched 120 s are clean throughout, and
    electrode pops, clipping and movement bursts injected at known times are found."""
    from engine.signals import evaluate as ev
    from engine.signals.inject import KINDS_FOR, inject

    x, fs = _pyphysio()[:, 1], 2048.0
    clean = ev.run_live("eda", x, fs)
    assert clean["rejected"] == 0.0 and not clean["kinds"]
    assert clean["q"][clean["q_t"] > 25.0].min() > 0.95  # known from 10 s, settled by 25 s
    for seed, kind in enumerate(KINDS_FOR["eda"]):
        y, spans = inject(x, fs, "eda", kind, [20.0, 45.0, 70.0, 95.0], seed=seed)
        live = ev.run_live("eda", y, fs)
        auc = ev.quality_auc(live["q_t"], live["q"], spans)
        print(f"eda {kind}: AUC {auc:.3f}, rejected {live['rejected']:.3f}, found {live['kinds']}")
        assert auc > 0.85
        assert sum(live["kinds"].values()) >= len(spans)


@pytest.mark.parametrize("channel, rate", [("ppg", 62), ("ppg", 95), ("respiration", 12),
                                           ("respiration", 18)])
def test_ppg_and_breathing_rates_match_neurokit2_on_its_simulated_signals(channel, rate):
    """Generated, not real: neurokit2's PPG and respiration simulators (seeded), so the PPG and
    breathing detectors are checked in any clone (the real PPG and respiration recordings are
    GPL and not shipped). The same tolerances as on the real recordings."""
    if channel == "ppg":
        fs = 100.0
        x = nk.ppg_simulate(duration=90, sampling_rate=int(fs), heart_rate=rate, random_state=rate)
        ours = np.asarray(stream("ppg", x, fs, ("beat",))["beat"])
        assert abs(nn_rate(ours) - nn_rate(reference_beats("ppg", x, fs))) < 2.0
        assert abs(nn_rate(ours) - rate) < 2.0
        return
    fs = 50.0
    x = nk.rsp_simulate(duration=120, sampling_rate=int(fs), respiratory_rate=rate, random_state=rate)
    breaths = np.asarray(stream("respiration", x, fs, ("breath",))["breath"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, info = nk.rsp_process(x, sampling_rate=int(fs))
    ref = np.asarray(info["RSP_Peaks"]) / fs
    ours_rate = 60.0 / np.diff(breaths[breaths > WARMUP]).mean()
    assert abs(ours_rate - 60.0 / np.diff(ref[ref > WARMUP]).mean()) < 1.5
    assert abs(ours_rate - rate) < 1.5
