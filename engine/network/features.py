"""The features an Alcove may publish: derived, pseudonymous, nothing else.

One message per Alcove per tick on `owl/<alcove>/features` (JSON, QoS 1):

    {"v": 1, "alcove": "a1", "seq": 17, "t": 1764614400.12,
     "count": 2, "present": 2, "synchrony": 0.81, "mean_phase": 2.4,
     "participants": {"k3f9a0c1d": {"present": true, "stale": false, "heart_rate": 64.2,
                      "breath_rate": 12.9, "breath_phase": 1.57, "eda_tonic": 3.1,
                      "saliva_ph": 6.9, "oral_temp": 36.6, "bacterial_load": 0.2, "biofilm": 0.1,
                      "quality": {"ecg": 0.98, "respiration": 0.41}}}}

Participant keys are keyed hashes (HMAC-SHA256 under a venue secret) of the venue's own
pseudonyms, so even an id an operator typed as a name never leaves. Unknown values are null.
`quality` carries the signal-quality index (0..1, engine.signals.quality) of each raw channel
the venue measured, so a reader can tell a rate from clean data from one guessed through
movement: heart rate goes with `ecg`/`ppg`, breathing with `respiration`, EDA with `eda`
(null when the venue measured none of them).
No waveform, no raw sample, no event, no name: `check_message` enforces the schema and the
privacy test runs every published byte through it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re

from engine.data import Frame, Participant

VERSION = 1
MESSAGE_KEYS = ("v", "alcove", "seq", "t", "count", "present", "synchrony", "mean_phase", "participants")
PARTICIPANT_KEYS = ("present", "stale", "heart_rate", "breath_rate", "breath_phase", "eda_tonic",
                    "saliva_ph", "oral_temp", "bacterial_load", "biofilm", "quality")
QUALITY_KEYS = ("ecg", "ppg", "respiration", "eda")  # engine.signals.quality.QUALITY_CHANNELS
IMPLANT = ("saliva_ph", "oral_temp", "bacterial_load", "biofilm")
KEY = re.compile(r"^k[0-9a-f]{12}$")
TOPIC = re.compile(r"^owl/([A-Za-z0-9_-]{1,32})/features$")


def topic_for(alcove: str) -> str:
    return f"owl/{alcove}/features"


def alcove_of(topic: str) -> str | None:
    m = TOPIC.match(topic)
    return m.group(1) if m else None


class Pseudonyms:
    """Keyed hashes of participant ids: stable for one secret, unlinkable without it."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self._cache: dict[str, str] = {}

    def __call__(self, pid: str) -> str:
        key = self._cache.get(pid)
        if key is None:
            digest = hmac.new(self.secret, pid.encode(), hashlib.sha256).hexdigest()
            key = self._cache[pid] = "k" + digest[:12]
        return key


def _num(x: float, digits: int = 3) -> float | None:
    return round(float(x), digits) if x is not None and math.isfinite(x) else None


def participant_features(p: Participant) -> dict:
    doc: dict = {"present": not p.stale, "stale": bool(p.stale), "heart_rate": _num(p.heart_rate, 1),
                 "breath_rate": _num(p.breath_rate, 2), "breath_phase": _num(p.breath_phase),
                 "eda_tonic": _num(p.eda_tonic)}
    for name in IMPLANT:  # the smoothed values, never the raw samples
        doc[name] = _num(p.values[name]) if name in p.values else None
    quality = {k: _num(min(max(q, 0.0), 1.0), 2) for k, q in p.quality.items() if k in QUALITY_KEYS}
    doc["quality"] = {k: q for k, q in quality.items() if q is not None} or None
    return doc


def build_message(frame: Frame, alcove: str, seq: int, unix_t: float, names: Pseudonyms) -> dict:
    g = frame.group
    return {"v": VERSION, "alcove": alcove, "seq": seq, "t": round(unix_t, 4), "count": g.count,
            "present": g.present, "synchrony": _num(g.synchrony), "mean_phase": _num(g.mean_phase),
            "participants": {names(p.id): participant_features(p) for p in frame.participants}}


def encode(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode()


class FeatureError(ValueError):
    """A message that is not a features message (the argument says why)."""


def check_message(payload: bytes) -> dict:
    """Decode a features message and check it holds only the documented keys and plain values."""
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise FeatureError("not JSON") from None
    if not isinstance(doc, dict) or set(doc) != set(MESSAGE_KEYS):
        raise FeatureError("wrong message keys")
    if doc["v"] != VERSION or not isinstance(doc["alcove"], str) or not TOPIC.match(topic_for(doc["alcove"])):
        raise FeatureError("bad version or alcove")
    for key in ("seq", "count", "present"):
        if not isinstance(doc[key], int) or isinstance(doc[key], bool) or doc[key] < 0:
            raise FeatureError(f"bad {key}")
    for key in ("t", "synchrony", "mean_phase"):
        if not _plain_number(doc[key], allow_null=key != "t"):
            raise FeatureError(f"bad {key}")
    people = doc["participants"]
    if not isinstance(people, dict) or len(people) > 4096:
        raise FeatureError("bad participants")
    for key, p in people.items():
        if not KEY.match(key) or not isinstance(p, dict) or set(p) != set(PARTICIPANT_KEYS):
            raise FeatureError("bad participant entry")
        if not isinstance(p["present"], bool) or not isinstance(p["stale"], bool):
            raise FeatureError("bad presence")
        if not all(_plain_number(p[k]) for k in PARTICIPANT_KEYS[2:-1]):
            raise FeatureError("bad participant value")
        if not _quality_ok(p["quality"]):
            raise FeatureError("bad quality")
    return doc


def _quality_ok(q: object) -> bool:
    """Null, or {channel: 0..1} over the known raw channels only."""
    if q is None:
        return True
    return isinstance(q, dict) and set(q) <= set(QUALITY_KEYS) and all(
        _plain_number(v, allow_null=False) and 0.0 <= v <= 1.0 for v in q.values())


def _plain_number(x: object, allow_null: bool = True) -> bool:
    if x is None:
        return allow_null
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
