"""The evidence table of docs/signals.md: heart and breathing rates on real recordings with
artifacts injected at known times, ours (live, quality-gated) against neurokit2 offline.

    python tools/signal_quality_table.py [--json] [--only NAME] [--before REV]

Reads ../shared/data (see its README for provenance; not shipped with the project). For each
recording and artifact kind, four artifacts of that kind are injected (seeded) at 20, 45, 70
and 95 s of the recording's evaluated stretch (respiration: two, at 25 and 70 s, as its only
recording is 120 s of irregular breathing; EDA: no rate, the quality index only); the methods
are scored on the clean parts
(intervals that touch no injected span, after a 12 s warm-up):
- `reference`: neurokit2 on the untouched recording (the target);
- `ours`: the live detectors through `Signals` in 50 ms chunks, skipping the spans they flag;
- `ungated`: the same detectors with quality gating off (as before this work);
- `nk2+art`: neurokit2 offline on the recording with the artifacts;
- `before` (with `--before REV`, e.g. the commit this work started from): that revision's
  detectors, streamed the same way in a subprocess from a `git archive` of its engine/.
Errors are rate − reference in /min, with the normal-to-normal cleaning (30 % of the median)
and without it ("all"). AUC: the quality index separating injected spans from clean time.
"""

from __future__ import annotations

import argparse
import bz2
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.signals import evaluate as ev  # noqa: E402
from engine.signals.inject import KINDS_FOR, inject  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
POOL: list[tuple] = []  # (channel, kind, quality times, quality, injected spans) for the pooled AUC
STARTS = {"ecg": (20.0, 45.0, 70.0, 95.0), "ppg": (20.0, 45.0, 70.0, 95.0), "respiration": (25.0, 70.0),
          "eda": (20.0, 45.0, 70.0, 95.0)}


def recordings() -> dict[str, tuple[str, np.ndarray, float]]:
    import pandas as pd

    with bz2.open(DATA / "pyphysio_medical_ecg_eda_bvp_resp_2048hz.txt.bz2", "rt") as f:
        med = np.loadtxt(f)
    adc = np.loadtxt(DATA / "pyhrv_ecg_1000hz_opensignals.txt")[:, -1]
    h117 = pd.read_csv(DATA / "heartpy_ppg_117hz.csv")
    fs117 = 1000.0 / float(np.median(np.diff(h117["timer"].to_numpy())))
    h100 = pd.read_csv(DATA / "heartpy_ppg_100hz_long.csv")
    stamps = pd.to_datetime(h100["datetime"], format="ISO8601")
    span = (stamps.iloc[-1] - stamps.iloc[0]).total_seconds()
    fs100 = (len(h100) - 1) / span
    return {
        "pyphysio_ecg": ("ecg", med[:, 0], 2048.0),
        "mitbih208_ecg": ("ecg", np.load(DATA / "mitbih208_ecg_360hz.npz")["ecg"][: int(130 * 360)], 360.0),
        "pyhrv_ecg": ("ecg", np.tile((adc / 1024.0 - 0.5) * 3.3 / 1100.0 * 1000.0, 6), 1000.0),
        "pyphysio_ppg": ("ppg", med[:, 2], 2048.0),
        "heartpy_ppg_117hz": ("ppg", h117["hr"].to_numpy(np.float64)[int(50 * fs117):], fs117),
        "heartpy_ppg_100hz": ("ppg", h100["hr"].to_numpy(np.float64)[: int(130 * fs100)], fs100),
        "pyphysio_resp": ("respiration", med[:, 3], 2048.0),
        "pyphysio_eda": ("eda", med[:, 1], 2048.0),
    }


BEFORE = """
import sys, numpy as np
from engine.data import Chunk
from engine.signals import Signals
channel, fs = sys.argv[1], float(sys.argv[2])
x = np.load(sys.argv[3])
sig = Signals(max_participants=1, stale_after=1e9, left_after=1e9)
t = np.arange(x.size) / fs
n = max(1, int(0.05 * fs))
kind = "breath" if channel == "respiration" else "beat"
out = []
for k, i in enumerate(range(0, x.size, n)):
    c = Chunk("p01", channel, t[i:i + n], x[i:i + n].astype(np.float32))
    frame = sig.update([c], [], float(t[min(i + n, x.size) - 1]), k, 0.05)
    out += [e.t for e in frame.events if e.kind == kind]
np.save(sys.argv[4], np.array(out))
"""


def before_times(src: Path, channel: str, y: np.ndarray, fs: float) -> np.ndarray:
    """Event times from another revision's engine (streamed in 50 ms chunks through its Signals)."""
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "y.npy", y)
        subprocess.run([sys.executable, "-c", BEFORE, channel, str(fs), str(Path(tmp) / "y.npy"),
                        str(Path(tmp) / "out.npy")], cwd=src, check=True, env={"PYTHONPATH": str(src),
                                                                                "PATH": "/usr/bin:/bin"})
        return np.load(Path(tmp) / "out.npy")


def score(name: str, channel: str, x: np.ndarray, fs: float, kind: str, seed: int,
          before: Path | None = None) -> dict:
    starts = [s for s in STARTS[channel] if s + 10.0 < x.size / fs]
    y, spans = inject(x, fs, channel, kind, starts, seed=seed)
    if channel == "eda":  # no rate to compare: the quality index alone
        live = ev.run_live(channel, y, fs)
        POOL.append((channel, kind, live["q_t"], live["q"], spans))
        row = {"recording": name, "channel": channel, "artifact": kind, "spans": len(spans),
               "reference": math.nan, "auc": ev.quality_auc(live["q_t"], live["q"], spans),
               "rejected": live["rejected"], "found": live["kinds"],
               "rejected_untouched": ev.run_live(channel, x, fs)["rejected"]}
        for method in ("ours", "ungated", "nk2+art", *(("before",) if before is not None else ())):
            row[method] = row[f"{method}_all"] = math.nan
        return row
    nn = channel != "respiration"  # ectopic beats: normal-to-normal on both sides; breaths vary
    ref = ev.rate(ev.clean_part(ev.pairs_of(ev.reference_times(channel, x, fs)), spans), channel, nn)
    live = ev.run_live(channel, y, fs)
    methods = {"ours": live["pairs"], "ungated": ev.pairs_of(ev.run_ungated(channel, y, fs)),
               "nk2+art": ev.pairs_of(ev.reference_times(channel, y, fs))}
    if before is not None:
        methods["before"] = ev.pairs_of(before_times(before, channel, y, fs))
    POOL.append((channel, kind, live["q_t"], live["q"], spans))
    row = {"recording": name, "channel": channel, "artifact": kind, "spans": len(spans), "reference": ref,
           "auc": ev.quality_auc(live["q_t"], live["q"], spans), "rejected": live["rejected"],
           "found": live["kinds"]}
    for method, pairs in methods.items():
        row[method] = ev.rate(ev.clean_part(pairs, spans), channel, nn) - ref
        row[f"{method}_all"] = ev.rate(pairs[:, 1], channel, nn) - ref
    return row


def _f(x: float, nd: int = 2) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:+.{nd}f}"


def markdown(rows: list[dict]) -> str:
    methods = [m for m in ("ours", "ungated", "nk2+art", "before") if rows and m in rows[0]]
    head = " | ".join([*methods, *(f"{m} (all)" for m in methods)])
    out = [f"| recording | artifact | reference /min | {head} | quality AUC | rejected |",
           "|" + "---|" * (5 + 2 * len(methods))]
    for r in rows:
        cells = " | ".join([*(_f(r[m]) for m in methods), *(_f(r[f"{m}_all"]) for m in methods)])
        ref = "-" if not math.isfinite(r["reference"]) else f"{r['reference']:.2f}"
        out.append(f"| {r['recording']} | {r['artifact']} | {ref} | {cells} | "
                   f"{r['auc']:.3f} | {100 * r['rejected']:.1f} % |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--before", default="", help="a git revision whose detectors to compare as well")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent (the table needs the shared recordings)")
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        before = None
        if args.before:
            root = Path(__file__).resolve().parent.parent
            tar = subprocess.run(["git", "-C", str(root), "archive", args.before, "engine"], check=True,
                                 capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=tar, check=True)
            before = Path(tmp)
        for name, (channel, x, fs) in recordings().items():
            if args.only and args.only not in name:
                continue
            for seed, kind in enumerate(KINDS_FOR[channel]):
                rows.append(score(name, channel, x, fs, kind, seed, before))
                print(json.dumps(rows[-1]) if args.json else markdown(rows[-1:]).splitlines()[-1], flush=True)
    summary = pooled()
    print(json.dumps({"pooled_auc": summary}) if args.json else markdown(rows) + "\n\npooled quality AUC: "
          + ", ".join(f"{k} {v:.3f}" for k, v in summary.items()))
    return 0


def pooled() -> dict[str, float]:
    """AUC over all rows of a channel, and over all rows but the slow swings (see the docs)."""
    out = {}
    groups = {ch: [r for r in POOL if r[0] == ch] for ch in ("ecg", "ppg", "respiration", "eda")}
    groups["all"] = POOL
    groups["all but swing"] = [r for r in POOL if r[1] != "swing"]
    for name, rows in groups.items():
        if not rows:
            continue
        q_t = np.concatenate([r[2] + 1000.0 * i for i, r in enumerate(rows)])
        keep = np.concatenate([r[2] > ev.WARMUP for r in rows])
        spans = [(a + 1000.0 * i, b + 1000.0 * i) for i, r in enumerate(rows) for a, b in r[4]]
        out[name] = ev.quality_auc(q_t[keep], np.concatenate([r[3] for r in rows])[keep], spans)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
