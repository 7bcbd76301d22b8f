"""Summaries of a recording: what `symphony inspect FILE [--json]` prints.

Per participant: channels with unit, sample count, rate and duration, and the mean heart
rate and breathing rate where the signals allow it, derived with the same causal detectors a
live show uses (from raw ECG or PPG, else a heart_rate channel; from respiration, else a
breath_rate channel).
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import numpy as np

from engine.recording.readers import Recording, Series, load_recording, quiet_pyxdf
from engine.signals import EcgBeats, PpgBeats, Respiration
from engine.signals.quality import QUALITY_CHANNELS, QualityTracker

WARMUP = 2.0  # seconds the detectors take to settle; their beats before that are not counted


def nn_mean_rate(times: list[float] | np.ndarray, low: float = 0.3, high: float = 2.0) -> float | None:
    """Events per minute over 'normal' intervals (within 30 % of the median); None if too few."""
    rr = np.diff(np.asarray(times, np.float64))
    if rr.size < 3:
        return None
    med = float(np.median(rr))
    ok = (rr > low) & (rr < high) & (np.abs(rr - med) < 0.3 * med)
    return 60.0 / float(rr[ok].mean()) if ok.sum() >= 2 else None


def _chunks(s: Series, seconds: float = 1.0):
    for a in range(0, s.t.size, 1 << 14):  # in pieces, as live
        t, v = s.t[a:a + (1 << 14)], s.v[a:a + (1 << 14)]
        if t.size:
            yield t, v.astype(np.float64)


def heart_rate(channels: dict[str, Series]) -> tuple[float | None, str | None]:
    for name, cls in (("ecg", EcgBeats), ("ppg", PpgBeats)):
        s = channels.get(name)
        if s is not None and s.t.size > 10:
            det = cls()
            beats = [b for t, v in _chunks(s) for b in det.process(t, v)]
            rate = nn_mean_rate([b for b in beats if b > s.t[0] + WARMUP])
            if rate is not None:
                return rate, name
    s = channels.get("heart_rate")
    if s is not None and s.v.size:
        return float(np.mean(s.v)), "heart_rate"
    return None, None


def breathing_rate(channels: dict[str, Series]) -> tuple[float | None, str | None]:
    s = channels.get("respiration")
    if s is not None and s.t.size > 10:
        resp = Respiration()
        breaths: list[float] = []
        for t, v in _chunks(s):
            resp.process(t, v)
            breaths += resp.tracker.breaths
            resp.tracker.breaths.clear()
        rate = nn_mean_rate([b for b in breaths if b > s.t[0] + WARMUP], low=1.0, high=30.0)
        if rate is not None:
            return rate, "respiration"
    s = channels.get("breath_rate")
    if s is not None and s.v.size:
        return float(np.mean(s.v)), "breath_rate"
    return None, None


MIN_BREATHING_SPAN = WARMUP + 4 * 6.0  # warm-up, then four breaths at the slowest 10/min


def _why_no_breathing(channels: dict[str, Series]) -> str:
    """Say why a breathing rate is missing, so a short recording is not mistaken for a bad one."""
    s = channels.get("respiration")
    if s is None or s.t.size == 0:
        return "no respiration or breath_rate samples"
    span = float(s.t[-1] - s.t[0])
    if span < MIN_BREATHING_SPAN:
        return f"respiration covers {span:.1f} s; a rate needs at least {MIN_BREATHING_SPAN:.0f} s"
    return "no regular breaths found in the respiration signal"


def channel_quality(channels: dict[str, Series]) -> dict[str, dict]:
    """Per raw channel: mean quality (0..1), share of time rejected as artifact, the artifact
    spans found by kind, and the rate its detector reports from the clean parts only."""
    out: dict[str, dict] = {}
    for name in QUALITY_CHANNELS:
        s = channels.get(name)
        if s is None or s.t.size < 10:
            continue
        qt = QualityTracker(name)
        det = {"ecg": EcgBeats, "ppg": PpgBeats, "respiration": Respiration}.get(name)
        feat = det() if det is not None else None
        log: list[tuple[float, float]] = []
        qs = []
        step = max(1, int(s.t.size / max(float(s.t[-1] - s.t[0]), 1e-9)))  # about a second per chunk
        for a in range(0, s.t.size, step):
            t, v = s.t[a:a + step], s.v[a:a + step].astype(np.float64)
            flags = qt.process(t, v)
            if isinstance(feat, Respiration):
                feat.tracker.periods = log
                feat.process(t, v, flags)
            elif feat is not None:
                feat.process(t, v, flags, qt)
                if feat.peaks is not None:
                    feat.peaks.rr_log = log
            if t[-1] > s.t[0] + WARMUP:
                qs.append(qt.quality)
        iv = np.array([d for tb, d in log if tb - d > s.t[0] + WARMUP])
        rate = None
        if iv.size >= 3:
            med = float(np.median(iv))
            iv = iv[np.abs(iv - med) < 0.3 * med] if name != "respiration" else iv
            rate = 60.0 / float(iv.mean()) if iv.size else None
        out[name] = {"quality": _r(float(np.mean(qs)) if qs else None, 2), "rejected": _r(qt.rejected, 3),
                     "artifacts": dict(sorted(qt.kinds.items())), "rate": _r(rate, 2)}
    return out


def _quality_lines(p: dict) -> list[str]:
    lines = []
    for name, q in p.get("quality", {}).items():
        arts = ", ".join(f"{k} {n}" for k, n in q["artifacts"].items()) or "none"
        rate = f"{q['rate']:.1f}/min" if q["rate"] is not None else "-"
        qual = f"{q['quality']:.2f}" if q["quality"] is not None else "-"
        lines.append(f"    quality {name:<12} {qual:>5}  rejected {100 * (q['rejected'] or 0):5.1f} %  "
                     f"rate (clean parts) {rate}  artifacts: {arts}")
    return lines


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


def summarize(rec: Recording) -> dict:
    people: dict[str, dict[str, Series]] = {}
    for s in rec.series:
        people.setdefault(s.participant, {})[s.channel] = s
    out: dict = {"file": rec.path.name, "format": rec.format, "participants": {},
                 "markers": len(rec.events), "skipped": rec.skipped}
    t0, t1 = math.inf, -math.inf
    for pid in sorted(people):
        chans = {}
        for name in sorted(people[pid]):
            s = people[pid][name]
            dur = float(s.t[-1] - s.t[0]) if s.t.size else 0.0
            if s.t.size:  # an empty column is listed with 0 samples
                t0, t1 = min(t0, float(s.t[0])), max(t1, float(s.t[-1]))
            chans[name] = {"unit": s.unit, "samples": int(s.t.size), "duration": _r(dur),
                           "rate": _r((s.t.size - 1) / dur if dur > 0 else None)}
        hr, hr_from = heart_rate(people[pid])
        br, br_from = breathing_rate(people[pid])
        out["participants"][pid] = {"channels": chans, "heart_rate": _r(hr, 2), "heart_rate_from": hr_from,
                                    "breathing_rate": _r(br, 2), "breathing_rate_from": br_from,
                                    "quality": channel_quality(people[pid])}
        if br is None:
            out["participants"][pid]["breathing_rate_missing"] = _why_no_breathing(people[pid])
    out["duration"] = _r(t1 - t0) if t1 >= t0 else 0.0
    return out


def inspect_file(path: str | Path) -> dict:
    rec = load_recording(path)
    out = summarize(rec)
    if rec.has_show:
        from engine.recording.show_replay import load_show, show_summary
        from engine.sources.base import SourceError

        with contextlib.suppress(SourceError), quiet_pyxdf(Path(path)):
            out["show"] = show_summary(load_show(path))
    return out


def format_summary(s: dict) -> str:
    lines = [f"{s['file']} ({s['format']}): {len(s['participants'])} participants, "
             f"{s['duration']} s, {s['markers']} markers"]
    for pid, p in s["participants"].items():
        extra = []
        if p["heart_rate"] is not None:
            extra.append(f"heart {p['heart_rate']:.1f} bpm ({p['heart_rate_from']})")
        if p["breathing_rate"] is not None:
            extra.append(f"breathing {p['breathing_rate']:.1f}/min ({p['breathing_rate_from']})")
        elif "respiration" in p["channels"]:
            extra.append(f"no breathing rate: {p['breathing_rate_missing']}")
        lines.append(f"  {pid}: " + ", ".join(extra) if extra else f"  {pid}:")
        for name, c in p["channels"].items():
            rate = f"{c['rate']:.2f} Hz" if c["rate"] is not None else "-"
            lines.append(f"    {name:<16} {c['unit']:<5} {c['samples']:>9} samples  {rate:>11}  "
                         f"{c['duration']} s")
        lines += _quality_lines(p)
    show = s.get("show")
    if show:
        acts = ", ".join(f"{k} {n}" for k, n in sorted(show["actions"].items())) or "none"
        fps = f"{show['fps']} fps median" if show["fps"] else "-"
        lines.append(f"  show: {show['frames']} frames over {show['duration']} s ({fps}, longest frame "
                     f"{show['dt_max']} s), operator actions: {acts}, scene reloads {show['reloads']}"
                     f" (rolled back {show['rollbacks']}), {show['meta']}")
    if s["skipped"]:
        lines.append(f"  skipped (not mapped to a channel): {', '.join(s['skipped'][:10])}")
    return "\n".join(lines)
