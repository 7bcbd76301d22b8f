"""Scene parameters: declared on the scene class with a range, a default and a smoothing
time; bound to data channels in one line; saved and recalled as presets.

    class Aurora(Scene):
        speed = Param(1.0, 0.0, 4.0, smoothing=0.5, doc="how fast the braid turns")

        def setup(self):
            self.bind("speed", "heart_rate", (55, 110), (0.5, 3.0), curve="smooth")

        def update(self, frame):
            self.strands.braid_spin = self.speed          # the smoothed current value

Setting `self.speed = 2.0` (or an operator, a preset, OSC) sets the *target*; the value the
scene reads glides towards it with the parameter's time constant, so nothing jumps.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

CURVES = {
    "linear": lambda u: u,
    "smooth": lambda u: u * u * (3.0 - 2.0 * u),
    "ease_in": lambda u: u * u,
    "ease_out": lambda u: 1.0 - (1.0 - u) * (1.0 - u),
    "exp": lambda u: (math.exp(3.0 * u) - 1.0) / (math.exp(3.0) - 1.0),
    "log": lambda u: math.log1p(u * (math.e - 1.0)),
}


class ParamError(ValueError):
    pass


class Param:
    """A number a scene exposes: clamped to [low, high], smoothed over `smoothing` seconds."""

    def __init__(self, default: float, low: float = 0.0, high: float = 1.0, *,
                 smoothing: float = 0.0, doc: str = "") -> None:
        if not low <= default <= high:
            raise ParamError(f"default {default} is outside [{low}, {high}]")
        self.default, self.low, self.high = float(default), float(low), float(high)
        self.smoothing, self.doc = float(smoothing), doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def clamp(self, value: float) -> float:
        return min(max(float(value), self.low), self.high)

    def __get__(self, scene, owner=None):
        if scene is None:
            return self
        return scene._params[self.name].value

    def __set__(self, scene, value: float) -> None:
        scene._params[self.name].target = self.clamp(value)
        scene._touched.add(self.name)  # live reload: an edit that sets a parameter wins


@dataclass
class ParamState:
    value: float
    target: float

    def advance(self, dt: float, tau: float) -> None:
        if tau <= 0.0:
            self.value = self.target
        else:
            self.value += (self.target - self.value) * (1.0 - math.exp(-dt / tau))


@dataclass
class Binding:
    """channel (group mean, or one participant's) → parameter, through ranges and a curve."""

    param: str
    channel: str
    input: tuple[float, float]
    output: tuple[float, float]
    curve: str = "linear"
    participant: str | None = None  # None: the group mean

    def value(self, frame) -> float | None:
        if self.participant is None:
            x = frame.group.mean.get(self.channel)
        else:
            x = next((p.values.get(self.channel) for p in frame.participants
                      if p.id == self.participant), None)
        if x is None or not math.isfinite(x):
            return None
        lo, hi = self.input
        u = min(max((x - lo) / (hi - lo), 0.0), 1.0) if hi != lo else 0.0
        u = CURVES[self.curve](u)
        return self.output[0] + (self.output[1] - self.output[0]) * u


def scene_params(cls: type) -> dict[str, Param]:
    """Every Param declared on a scene class and its bases, by name."""
    out: dict[str, Param] = {}
    for klass in reversed(cls.__mro__):
        out.update({k: v for k, v in vars(klass).items() if isinstance(v, Param)})
    return out


def save_preset(path: Path, values: dict[str, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")


def load_preset(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ParamError(f"cannot read preset {path}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, int | float) for v in data.values()):
        raise ParamError(f"preset {path} must map parameter names to numbers")
    return {str(k): float(v) for k, v in data.items()}
