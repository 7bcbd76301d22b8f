"""Read recorded sessions: XDF (Symphony's own or LabRecorder's), CSV and EDF/BDF.

Everything becomes a `Recording`: per participant channel a `Series` (times in seconds,
float32 values in the channel's canonical unit) plus marker events. Streams are mapped to
participants and channels by name: `<participant>/<channel>` in a stream or channel label,
or a channel label alone (the participant is then the stream name, or `p00`). Common sensor
labels map to canonical channels (ECG/EKG → ecg, BVP/PLETH → ppg, RESP → respiration,
GSR → eda, ...) and µV/V ECG is converted to mV. What cannot be mapped is listed in
`skipped`, never guessed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.data import CHANNELS, Event, valid_participant_id
from engine.sources.base import SourceError

ALIASES = {
    "ecg": "ecg", "ekg": "ecg", "ppg": "ppg", "bvp": "ppg", "pleth": "ppg", "pulse": "ppg",
    "resp": "respiration", "rsp": "respiration", "respiration": "respiration", "breath": "respiration",
    "eda": "eda", "gsr": "eda", "scl": "eda", "skin_conductance": "eda", "hr": "heart_rate",
    "heart_rate": "heart_rate", "heartrate": "heart_rate", "br": "breath_rate",
    "breath_rate": "breath_rate", "resp_rate": "breath_rate",
}
UNIT_SCALE = {("ecg", "uv"): 1e-3, ("ecg", "µv"): 1e-3, ("ecg", "v"): 1e3, ("eda", "ns"): 1e-3}
MAX_CSV_BYTES = 512 * 1024 * 1024


@dataclass
class Series:
    participant: str
    channel: str
    unit: str
    t: np.ndarray
    v: np.ndarray


@dataclass
class Recording:
    path: Path
    format: str
    series: list[Series] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    show_clock: bool = False  # timestamps are Symphony show seconds (no shifting on replay)
    has_show: bool = False  # a show recording: ticks and operator actions too

    def start(self) -> float:
        firsts = [s.t[0] for s in self.series if s.t.size] + [e.t for e in self.events]
        return float(min(firsts)) if firsts else 0.0


def channel_name(label: str) -> str | None:
    key = re.sub(r"[\s\-]+", "_", label.strip().lower())
    if key in CHANNELS:
        return key
    return ALIASES.get(key) or ALIASES.get(key.split("_")[0])


def split_label(label: str, default_participant: str) -> tuple[str, str] | None:
    """`p01/ecg` or `ecg` → (participant, canonical channel); None if it is neither."""
    pid, sep, rest = label.strip().rpartition("/")
    pid = pid if sep else default_participant
    channel = channel_name(rest)
    if channel is None or not valid_participant_id(pid):
        return None
    return pid, channel


def _scaled(channel: str, unit: str, v: np.ndarray) -> np.ndarray:
    scale = UNIT_SCALE.get((channel, unit.strip().lower()))
    return (v * scale if scale else v).astype(np.float32)


def _add(rec: Recording, pid: str, channel: str, unit: str, t: np.ndarray, v: np.ndarray) -> None:
    ok = np.isfinite(t) & np.isfinite(v)
    order = np.argsort(t[ok], kind="stable")
    rec.series.append(Series(pid, channel, CHANNELS[channel].unit, t[ok][order],
                             _scaled(channel, unit, v[ok][order])))


def _first(d: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(d, dict) or not d.get(key):
            return None
        d = d[key][0]
    return d


class _Complaints(logging.Handler):
    """pyxdf logs a damaged chunk with a full traceback: keep its first line, print none of it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.first is None and record.levelno >= logging.ERROR:
            self.first = record.getMessage().splitlines()[0][:120]


@contextlib.contextmanager
def quiet_pyxdf(path: Path):
    """pyxdf's complaints (tracebacks included) become one warning line about the file."""
    pylog = logging.getLogger("pyxdf")
    complaints = _Complaints()
    saved = pylog.handlers[:], pylog.propagate, pylog.level
    pylog.handlers, pylog.propagate = [complaints], False
    pylog.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        pylog.handlers, pylog.propagate = saved[0], saved[1]
        pylog.setLevel(saved[2])
    if complaints.first is not None:
        logging.getLogger("symphony").warning("%s is damaged (%s): reading what is readable", path.name,
                                              complaints.first)


def load_xdf(path: Path) -> Recording:
    import pyxdf

    try:
        with quiet_pyxdf(path):
            streams, header = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the file's fault
        why = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise SourceError(f"cannot read XDF file {path.name}: {why}") from None
    rec = Recording(path, "xdf", show_clock=_first(header, "info", "clock") == "show")
    for st in streams:
        info = st["info"]
        name = str(_first(info, "name") or "")
        fmt = str(_first(info, "channel_format") or "")
        if name.startswith("show/"):  # the show's own streams (ticks, actions): not data, not markers
            rec.has_show = True
            continue
        t = np.asarray(st["time_stamps"], np.float64).reshape(-1)
        if t.size == 0:  # a stream that never got a sample (the writer declares streams up front)
            continue
        if fmt == "string":
            for ti, row in zip(t.tolist(), st["time_series"], strict=False):
                rec.events.append(_marker(ti, row[0] if row else ""))
            continue
        try:
            with warnings.catch_warnings():  # a damaged block's values: NaN, dropped by _add
                warnings.simplefilter("ignore")
                data = np.asarray(st["time_series"], np.float64).reshape(t.size, -1)
        except (ValueError, TypeError):
            rec.skipped.append(f"{name[:64]} (damaged)")
            continue
        labels = _xdf_labels(info, data.shape[1])
        default = name.split("/")[0] if valid_participant_id(name.split("/")[0]) else "p00"
        for k in range(data.shape[1]):
            label, unit = labels[k]
            mapped = split_label(name, default) if data.shape[1] == 1 and "/" in name else None
            mapped = mapped or split_label(label, default)
            if mapped is None:
                rec.skipped.append(f"{name}[{label}]")
                continue
            _add(rec, *mapped, unit, t, data[:, k])
    return rec


def _xdf_labels(info: dict, n: int) -> list[tuple[str, str]]:
    channels = _first(info, "desc", "channels")
    found = channels.get("channel", []) if isinstance(channels, dict) else []
    out = []
    for k in range(n):
        ch = found[k] if k < len(found) and isinstance(found[k], dict) else {}
        label = ch.get("label", [None])[0] or str(_first(info, "type") or f"ch{k}")
        out.append((str(label), str(ch.get("unit", [""])[0] or "")))
    return out


def _marker(t: float, text: str) -> Event:
    try:
        d = json.loads(text)
        if isinstance(d, dict) and isinstance(d.get("kind"), str):
            pid = d.get("participant")
            value = d.get("value", 0.0)
            return Event(t, d["kind"], pid if valid_participant_id(pid) else None,
                         float(value) if isinstance(value, int | float) else 0.0)
    except (ValueError, TypeError):
        pass
    return Event(t, "marker", None, 0.0)


def parse_csv(text: str, path: Path = Path("data.csv")) -> Recording:
    """`time` in seconds, then one column per `<participant>/<channel>`; empty cells are gaps."""
    try:
        return _parse_csv(text, path)
    except csv.Error as exc:
        raise SourceError(f"{path.name}: not a valid CSV file ({exc})") from None


def _parse_csv(text: str, path: Path) -> Recording:
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    if not header or header[0].strip().lower() != "time" or len(header) < 2:
        raise SourceError(f"{path.name}: the first column must be 'time', then <participant>/<channel>")
    cols: list[tuple[str, str] | None] = []
    rec = Recording(path, "csv")
    for name in header[1:]:
        mapped = split_label(name, "p00") if "/" in name else None
        cols.append(mapped)
        if mapped is None:
            rec.skipped.append(name.strip()[:64])
    table: list[list[float]] = []
    for line, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) > len(header):
            raise SourceError(f"{path.name}: line {line} has {len(row)} cells, the header {len(header)}")
        try:
            table.append([float(c) if c.strip() else np.nan for c in row]
                         + [np.nan] * (len(header) - len(row)))
        except ValueError:
            raise SourceError(f"{path.name}: line {line} has a cell that is not a number") from None
    data = np.array(table, np.float64).reshape(-1, len(header))
    for k, mapped in enumerate(cols, start=1):
        if mapped is not None:
            _add(rec, *mapped, "", data[:, 0], data[:, k])
    return rec


def load_edf(path: Path, participant: str = "p00") -> Recording:
    import pyedflib

    try:
        reader = pyedflib.EdfReader(str(path))
    except OSError as exc:
        raise SourceError(f"cannot read EDF/BDF file {path.name}: {exc}") from None
    rec = Recording(path, path.suffix.lower().lstrip("."))
    try:
        for k, label in enumerate(reader.getSignalLabels()):
            mapped = split_label(label, participant)
            if mapped is None:
                rec.skipped.append(label[:64])
                continue
            v = reader.readSignal(k)
            t = np.arange(v.size) / reader.getSampleFrequency(k)
            _add(rec, *mapped, reader.getPhysicalDimension(k), t, v)
        for onset, _duration, text in zip(*reader.readAnnotations(), strict=False):
            rec.events.append(_marker(float(onset), str(text)))
    finally:
        reader.close()
    return rec


def load_recording(path: str | Path, participant: str = "p00") -> Recording:
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"recording {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".xdf", ".xdfz"):
        return load_xdf(path)
    if suffix == ".csv":
        if path.stat().st_size > MAX_CSV_BYTES:
            raise SourceError(f"{path.name} is larger than {MAX_CSV_BYTES >> 20} MiB")
        return parse_csv(path.read_text(errors="replace"), path)
    if suffix in (".edf", ".bdf"):
        return load_edf(path, participant)
    raise SourceError(f"{path.name}: unknown recording format (use .xdf, .csv, .edf or .bdf)")
