"""What the operator has set, apart from the scene: blackout, master, freeze, and parameter
glides of a cue. Advanced by each frame's dt (never the wall clock), so a recorded show
replays it exactly (engine.recording.show_replay applies the same actions to the same state).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Glide:
    """A parameter's target moving from `start` to `end` over `fade` seconds (smooth step)."""

    start: float
    end: float
    fade: float
    t: float = 0.0

    def advance(self, dt: float) -> float:
        self.t += dt
        u = 1.0 if self.fade <= 0 else min(self.t / self.fade, 1.0)
        u = u * u * (3.0 - 2.0 * u)
        return self.start + (self.end - self.start) * u

    @property
    def done(self) -> bool:
        return self.t >= self.fade


@dataclass
class OperatorState:
    """The output stage's levels: what reaches every output is image × master × blackout level."""

    blackout: bool = False
    fade: float = 1.0  # blackout fade, seconds
    level: float = 1.0  # 1 = shown, 0 = black; moves towards the blackout target over `fade`
    master: float = 1.0
    freeze: bool = False
    dip: float = 1.0  # a cue changing scene dips the outputs through black (engine.perform.cues)
    glides: dict[str, Glide] = field(default_factory=dict)

    @property
    def gain(self) -> float:
        return self.master * self.level * self.dip

    def apply(self, kind: str, action: dict) -> bool:
        """An output-stage action (blackout, master, freeze, fade); False if not one."""
        if kind == "blackout":
            self.blackout = bool(action["on"])
            if "fade" in action:
                self.fade = float(action["fade"])
        elif kind == "master":
            self.master = min(max(float(action["value"]), 0.0), 1.0)
        elif kind == "freeze":
            self.freeze = bool(action["on"])
        elif kind == "fade":
            self.fade = max(float(action["value"]), 0.0)
        else:
            return False
        return True

    def glide(self, scene, targets: dict[str, float], fade: float) -> None:
        """Start gliding each parameter's target to its new value (clamped) over `fade`."""
        from engine.scene import param_state  # scenes load Numba: only where a scene is at hand

        specs = type(scene).params()
        for name, value in targets.items():
            if name in specs:
                start = param_state(scene, name).target
                self.glides[name] = Glide(start, specs[name].clamp(value), fade)

    def advance(self, dt: float, scene=None) -> None:
        """One frame: move the blackout level and the glides (before scene.update)."""
        goal = 0.0 if self.blackout else 1.0
        step = dt / self.fade if self.fade > 0 else 1.0
        self.level = min(self.level + step, goal) if goal > self.level else max(self.level - step, goal)
        if scene is not None:
            from engine.scene import param_state

            for name in list(self.glides):
                g = self.glides[name]
                try:
                    param_state(scene, name).target = g.advance(dt)
                except ValueError:  # the scene changed and lost the parameter
                    g.t = g.fade
                if g.done:
                    del self.glides[name]


def operator_state(show) -> OperatorState:
    """The show's operator state, made on first use (a `Show` carries it as `show.operator`)."""
    state = getattr(show, "operator", None)
    if state is None:
        state = show.operator = OperatorState()
    return state


def write_state(path: Path, doc: dict) -> None:
    """Atomically: a reader (the supervisor, a restarted show) never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True))
    os.replace(tmp, path)


def read_state(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None
