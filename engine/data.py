"""The data that flows from sources to scenes: channels, samples, events, and the Frame.

Sources emit `Chunk`s (timestamped samples of one participant's channel) and `Event`s;
`engine.signals.Signals` folds them into one `Frame` per rendered frame, which is all a
scene ever sees. Participants are pseudonyms: ids are validated, never names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Channel:
    name: str
    unit: str
    low: float  # plausible physiological range, used for clamping and normalising
    high: float
    smoothing: float  # seconds: time constant of the smoothed value scenes read
    simulated: bool = False  # no real sensor exists yet (the dental-implant channels)


CHANNELS: dict[str, Channel] = {
    c.name: c
    for c in (
        Channel("heart_rate", "bpm", 30.0, 220.0, 2.0),
        Channel("ecg", "mV", -5.0, 5.0, 0.0),
        Channel("ppg", "a.u.", -1e6, 1e6, 0.0),
        Channel("respiration", "a.u.", -1e6, 1e6, 0.1),
        Channel("breath_rate", "/min", 2.0, 60.0, 4.0),
        Channel("eda", "µS", 0.0, 100.0, 1.0),
        Channel("saliva_ph", "pH", 4.0, 9.0, 3.0, simulated=True),
        Channel("oral_temp", "°C", 30.0, 42.0, 3.0, simulated=True),
        Channel("bacterial_load", "0-1", 0.0, 1.0, 3.0, simulated=True),
        Channel("biofilm", "0-1", 0.0, 1.0, 3.0, simulated=True),
    )
}

PARTICIPANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def valid_participant_id(pid: str) -> bool:
    return bool(PARTICIPANT_ID.match(pid))


@dataclass
class Chunk:
    """Samples of one channel of one participant: `t` in source seconds, `v` in the channel's unit."""

    participant: str
    channel: str
    t: np.ndarray  # float64
    v: np.ndarray  # float32


@dataclass(frozen=True)
class Event:
    t: float
    kind: str  # "beat", "breath", "join", "leave", ...
    participant: str | None = None
    value: float = 0.0


@dataclass
class Participant:
    """One participant as a scene sees it in a frame."""

    id: str
    slot: int  # stable index (0..max_participants-1): which strand bundle is theirs
    values: dict[str, float]  # smoothed channel values in their units
    raw: dict[str, float]  # latest raw sample of each channel
    beat: float  # 1.0 at a heartbeat, decaying to 0 within ~0.3 s
    beats: int  # heartbeats seen so far
    breath: float  # respiration normalised to about -1..1 (inhale positive)
    breath_phase: float  # radians, 0 at the top of an inhale
    breath_rate: float  # breaths per minute, estimated causally

    def get(self, channel: str, default: float = 0.0) -> float:
        return self.values.get(channel, default)

    def norm(self, channel: str) -> float:
        """The smoothed value mapped from its channel's plausible range to 0..1."""
        c = CHANNELS[channel]
        return float(np.clip((self.get(channel, c.low) - c.low) / (c.high - c.low), 0.0, 1.0))


@dataclass
class Group:
    count: int = 0
    synchrony: float = 0.0  # Kuramoto order parameter of breathing phases, 0..1
    mean_phase: float = 0.0
    mean: dict[str, float] = field(default_factory=dict)
    spread: dict[str, float] = field(default_factory=dict)


@dataclass
class Frame:
    index: int
    t: float
    dt: float
    participants: list[Participant]
    events: list[Event]
    group: Group
