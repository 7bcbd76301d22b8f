"""The data that flows from sources to scenes: channels, samples, events, and the Frame.

Sources emit `Chunk`s (timestamped samples of one participant's channel) and `Event`s;
`engine.signals.Signals` folds them into one `Frame` per rendered frame, which is all a
scene ever sees. Participants are pseudonyms: ids are validated, never names.
"""

from __future__ import annotations

import difflib
import functools
import logging
import math
import re
import warnings
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

# values the signals derive from channels (besides heart_rate and breath_rate, which are
# channels too): scenes and bindings may read them like channels; 0 until they are known
DERIVED = ("eda_tonic", "eda_phasic")

PARTICIPANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
CHANNEL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
ALCOVE_ID = PARTICIPANT_ID


def valid_participant_id(pid: object) -> bool:
    return isinstance(pid, str) and bool(PARTICIPANT_ID.fullmatch(pid))


def register_channel(name: str, unit: str, low: float, high: float, smoothing: float = 1.0) -> Channel:
    """Add an artist's custom channel; sources reject channel names that are not registered."""
    if not CHANNEL_NAME.fullmatch(name):
        raise ValueError(f"channel name '{name}' must match {CHANNEL_NAME.pattern}")
    if not (low < high) or smoothing < 0:
        raise ValueError(f"channel '{name}': need low < high and smoothing >= 0")
    existing = CHANNELS.get(name)
    channel = Channel(name, unit, float(low), float(high), float(smoothing))
    if existing is not None and existing != channel:
        raise ValueError(f"channel '{name}' already exists with different settings")
    CHANNELS[name] = channel
    return channel


@dataclass
class Chunk:
    """Samples of one channel of one participant: `t` in source seconds, `v` in the channel's unit."""

    participant: str
    channel: str
    t: np.ndarray  # float64, show seconds (the source's own clock is t + source_offset)
    v: np.ndarray  # float32
    arrival: float = math.nan  # show time at which it reached this process (nan: generated here)
    source_offset: float = 0.0  # add to t for the source's clock (e.g. unix seconds for OSC/MQTT)
    alcove: str = ""


@dataclass(frozen=True)
class Event:
    t: float
    kind: str  # "join", "beat", "breath", "stale", "active", "left", "scr", "marker", ...
    participant: str | None = None
    value: float = 0.0


def _renamed_attribute(old: str, new: str) -> property:
    """A deprecated alias (`Class.old`) that reads and writes `Class.new`, warning once."""
    attr = new.rsplit(".", 1)[1]

    def get(self):
        renamed(old, new)
        return getattr(self, attr)

    def set_(self, value) -> None:
        renamed(old, new)
        setattr(self, attr, value)

    return property(get, set_)


@dataclass
class Participant:
    """One participant as a scene sees it in a frame."""

    id: str
    slot: int  # stable index (0..max_participants-1): which strand bundle is theirs
    values: dict[str, float]  # smoothed channel values in their units
    raw: dict[str, float]  # latest raw sample of each channel
    pulse: float  # 1.0 at a heartbeat, decaying to 0 within ~0.3 s (a glow to multiply)
    beat_count: int  # heartbeats seen so far
    breath: float  # respiration normalised to about -1..1 (inhale positive)
    breath_phase: float  # radians, 0 at the top of an inhale
    breath_rate: float  # breaths per minute, estimated causally
    heart_rate: float = math.nan  # bpm from detected beats (ECG/PPG) or a heart_rate channel
    eda_tonic: float = math.nan  # µS: slow skin-conductance level
    eda_phasic: float = 0.0  # µS above the tonic level (responses)
    stale: bool = False  # no data for a while (see Signals.stale_after)
    alcove: str = ""
    last_seen: float = 0.0  # show time of the last sample received
    # 0..1 per raw channel (ecg, ppg, respiration, eda): how far its data can be trusted now;
    # 0 in and just after artifacts (see engine.signals.quality). Absent: no such channel.
    quality: dict[str, float] = field(default_factory=dict)

    def get(self, channel: str, default: float = 0.0) -> float:
        """The smoothed value of a channel, or `default` until it arrives. A name that is no
        channel at all (a typo: "saliva_pH") warns once, naming the closest channel."""
        value = self.values.get(channel)
        if value is None:
            if channel not in CHANNELS and channel not in DERIVED:
                _warn_unknown(channel)
            return default
        return value

    # old names, one release: `beat` was the 0..1 glow, `beats` the count
    beat = _renamed_attribute("Participant.beat", "Participant.pulse")
    beats = _renamed_attribute("Participant.beats", "Participant.beat_count")

    def norm(self, channel: str) -> float:
        """The smoothed value mapped from its channel's plausible range to 0..1."""
        c = CHANNELS[channel]
        return float(np.clip((self.get(channel, c.low) - c.low) / (c.high - c.low), 0.0, 1.0))


_renamed: set[str] = set()
_unknown: set[str] = set()


def renamed(old: str, new: str) -> None:
    """Warn once that an old name still works but goes away in the next release."""
    if old not in _renamed:
        _renamed.add(old)
        warnings.warn(f"{old} is deprecated and goes away in the next release: use {new}",
                      FutureWarning, stacklevel=3)


def _warn_unknown(channel: str) -> None:
    if channel in _unknown:
        return
    _unknown.add(channel)
    close = difflib.get_close_matches(str(channel), [*CHANNELS, *DERIVED], n=1)
    logging.getLogger("symphony").warning(
        "p.get('%s'): no such channel%s; it reads the default until one arrives",
        channel, f" (did you mean '{close[0]}'?)" if close else "")


class ChannelValues(dict):
    """A value per channel name that reads a default until the channel first arrives, so a
    scene's `frame.group.mean["saliva_ph"]` works from frame 0: the middle of a registered
    channel's plausible range for means, 0 for spreads. A name that is no channel at all is
    still a KeyError, naming the closest channel (a typo should not read as data)."""

    def __init__(self, values=(), *, midpoint: bool) -> None:
        super().__init__(values)
        self.midpoint = midpoint

    def __missing__(self, name: str) -> float:
        channel = CHANNELS.get(name)
        if name in DERIVED:
            return 0.0
        if channel is None:
            close = difflib.get_close_matches(str(name), [*CHANNELS, *DERIVED], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise KeyError(f"no channel '{name}'{hint}")
        return 0.5 * (channel.low + channel.high) if self.midpoint else 0.0

    def __reduce__(self):  # pickles (show checkpoints) with its default rule
        return (_channel_values, (dict(self), self.midpoint))


def _channel_values(values: dict, midpoint: bool) -> ChannelValues:
    return ChannelValues(values, midpoint=midpoint)


@dataclass
class Group:
    count: int = 0
    synchrony: float = 0.0  # Kuramoto order parameter of breathing phases, 0..1
    mean_phase: float = 0.0
    mean: dict[str, float] = field(default_factory=lambda: ChannelValues(midpoint=True))
    spread: dict[str, float] = field(default_factory=lambda: ChannelValues(midpoint=False))
    present: int = 0  # participants not stale

    def __post_init__(self) -> None:
        if not isinstance(self.mean, ChannelValues):
            self.mean = ChannelValues(self.mean, midpoint=True)
        if not isinstance(self.spread, ChannelValues):
            self.spread = ChannelValues(self.spread, midpoint=False)


GLITCH_FLOOR, GLITCH_FULL = 10.0, 100_000.0  # bad samples/s: level 0 below, 1 at and above


@functools.total_ordering
@dataclass
class Glitch:
    """Bad input as a scene sees it. `count`: samples rejected or repaired since the last
    frame (all sources). `level`: 0..1, how much is arriving now, on a log scale so that a
    trickle and a flood both show: about 0.25 at 100 bad samples a second, 0.5 at 1000, 0.75
    at 10 000, 1 at 100 000; it rises at once with a burst and fades over about half a second.
    (Before, `frame.glitch` was the level itself: as a number it still reads as the level, for
    one release, with a warning.)"""

    level: float = 0.0
    count: int = 0

    @staticmethod
    def level_of(rate: float) -> float:
        """The level for a rate of bad samples per second."""
        return min(max(math.log1p(rate / GLITCH_FLOOR) / math.log1p(GLITCH_FULL / GLITCH_FLOOR), 0.0), 1.0)

    def _old(self) -> float:
        renamed("frame.glitch as a number", "frame.glitch.level (and frame.glitch.count)")
        return self.level

    def __float__(self) -> float:
        return self._old()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Glitch):
            return (self.level, self.count) == (other.level, other.count)
        return self._old() == other if isinstance(other, (int, float)) else NotImplemented

    def __lt__(self, other: object) -> bool:
        value = other.level if isinstance(other, Glitch) else other
        return self._old() < value  # type: ignore[operator]

    __hash__ = None  # type: ignore[assignment]

    def __mul__(self, other):
        return self._old() * other

    __rmul__ = __mul__

    def __add__(self, other):
        return self._old() + other

    __radd__ = __add__

    def __sub__(self, other):
        return self._old() - other

    def __rsub__(self, other):
        return other - self._old()


@dataclass
class Frame:
    index: int
    t: float
    dt: float
    participants: list[Participant]
    events: list[Event]
    group: Group
    alcoves: dict[str, Group] = field(default_factory=dict)  # the same metrics per Alcove
    glitch: Glitch = field(default_factory=Glitch)  # bad input: .level 0..1, .count this frame

    @property
    def glitches(self) -> int:
        """Deprecated: frame.glitch.count."""
        renamed("frame.glitches", "frame.glitch.count")
        return self.glitch.count
