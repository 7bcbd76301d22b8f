"""The operator's keys (console and output windows), as actions for the one dispatch.

    Right, Space   next cue          Left       previous cue       1..9   cue N
    B              blackout (fade)   Z          freeze             Up/Down master ±10 %
    O              force failover    X          panic (fade to black, then the safe scene)
    Tab            console page      Esc Esc    quit (twice within 2 s: one Esc never ends a show)
    C, P, F        calibration, patterns, full screen (engine.venue)
"""

from __future__ import annotations

import glfw

QUIT_WITHIN = 2.0  # seconds between the two Escs that quit


def key_action(key: int, op, failover_forced: bool) -> tuple[str, dict] | None:
    """The action a key asks for, given the operator state (toggles need it), or None."""
    if key in (glfw.KEY_RIGHT, glfw.KEY_SPACE):
        return "cue_next", {}
    if key == glfw.KEY_LEFT:
        return "cue_prev", {}
    if glfw.KEY_1 <= key <= glfw.KEY_9:
        return "cue", {"go": key - glfw.KEY_1}
    if key == glfw.KEY_B:
        return "blackout", {"on": not op.blackout}
    if key == glfw.KEY_Z:
        return "freeze", {"on": not op.freeze}
    if key in (glfw.KEY_UP, glfw.KEY_DOWN):
        step = 0.1 if key == glfw.KEY_UP else -0.1
        return "master", {"value": round(min(max(op.master + step, 0.0), 1.0), 3)}
    if key == glfw.KEY_O:
        return "failover", {"on": not failover_forced}
    if key == glfw.KEY_X:
        return "panic", {}
    return None


class QuitGuard:
    """Esc twice within `QUIT_WITHIN` seconds quits; one Esc only arms it (and says so)."""

    def __init__(self, clock) -> None:
        self.clock, self.armed_at = clock, None

    def press(self) -> bool:
        now = self.clock()
        if self.armed_at is not None and now - self.armed_at <= QUIT_WITHIN:
            return True
        self.armed_at = now
        return False

    @property
    def armed(self) -> bool:
        return self.armed_at is not None and self.clock() - self.armed_at <= QUIT_WITHIN
