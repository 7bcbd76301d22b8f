"""The one door for operator actions: keys, OSC, cues, the state file's resume and panic all
call `Dispatcher.dispatch(kind, payload)`. Each action is checked (unknown names and
out-of-range values are counted and refused or clamped, never raised), applied, written to
the show log and, when the show is recorded, to its `show/actions` stream (replayed by
engine.recording.show_replay.apply_actions).

Kinds: param, preset, cue, cue_next, cue_prev, blackout, fade, master, freeze, failover, panic.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from engine.params import ParamError, load_preset
from engine.perform.config import PerformConfig
from engine.perform.state import OperatorState, operator_state

log = logging.getLogger("symphony.perform")


class ShowLog:
    """Operator actions, cues, failovers and crashes, one JSON line each (append-only)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lines: list[str] = []  # the last few, for the console

    def write(self, what: str, **fields: object) -> None:
        now = time.time()
        doc = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now)), "unix": round(now, 3),
               "what": what, **fields}
        text = json.dumps(doc, default=str)
        doc.pop("unix")
        self.lines = [*self.lines[-7:], f"{doc['time'][11:]} {what} " + " ".join(
            f"{k}={v}" for k, v in fields.items())]
        if self.path is not None:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(text + "\n")


class Dispatcher:
    def __init__(self, config: PerformConfig, show, showlog: ShowLog, scenes=None) -> None:
        self.config, self.show, self.log = config, show, showlog
        self.scenes = scenes  # engine.perform.cues.SceneSwitcher: cues that change scene
        self.failover = None  # engine.perform.failover.FailoverSource, when configured
        self.streams = None  # engine.recording.show_streams.ShowStreams, when recording
        self.cue = -1  # index of the current cue (-1: none yet)
        self.refused: dict[str, int] = {}
        self.count = 0  # actions applied
        self.handled = 0  # actions applied or refused

    @property
    def operator(self) -> OperatorState:
        return operator_state(self.show)

    def _refuse(self, reason: str, detail: str) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1
        if self.refused[reason] in (1, 10, 100, 1000):
            log.warning("operator action refused (%s): %s", reason, detail)

    def dispatch(self, kind: str, payload: dict | None = None, origin: str = "key") -> bool:
        """Check, apply, log and record one action; False if refused."""
        payload = dict(payload or {})
        self.handled += 1
        try:
            record = self._apply(kind, payload)
        except (KeyError, TypeError, ValueError) as exc:
            self._refuse("bad_action", f"{kind} {payload}: {exc}")
            return False
        if record is None:
            return False
        self.count += 1
        self.log.write(kind, origin=origin, **{k: v for k, v in record.items() if k != "kind"})
        if self.streams is not None:
            f = self.show.last_frame
            self.streams.action(f.index + 1 if f else 0, f.t if f else 0.0, **record)
        return True

    def _apply(self, kind: str, p: dict) -> dict | None:
        scene = self.show.scene
        if kind == "param":
            name, value = p["name"], float(p["value"])
            spec = type(scene).params().get(name)
            if spec is None:
                self._refuse("unknown_param", name)
                return None
            clamped = spec.clamp(value)
            if clamped != value:
                self._refuse("out_of_range", f"{name}={value:g} clamped to {clamped:g}")
            self.operator.glides.pop(name, None)
            from engine.scene import param_state  # the supervisor imports this module: no Numba

            param_state(scene, name).target = clamped
            return {"kind": "param", "name": name, "value": clamped}
        if kind == "preset":
            try:
                values = load_preset(Path(p["file"]))
            except ParamError as exc:
                self._refuse("bad_preset", str(exc))
                return None
            self.operator.glide(scene, values, float(p.get("fade", 0.0)))
            return {"kind": "cue", "name": Path(p["file"]).name, "params": values,
                    "fade": float(p.get("fade", 0.0))}
        if kind in ("cue_next", "cue_prev"):
            return self._apply("cue", {"go": self.cue + (1 if kind == "cue_next" else -1)})
        if kind == "cue":
            return self._cue(p["go"], p.get("fade"))
        if kind in ("blackout", "master", "freeze", "fade"):
            self.operator.apply(kind, p)
            if kind == "blackout" and "fade" not in p:
                p["fade"] = self.operator.fade
            return {"kind": kind, **p}
        if kind == "failover":
            if self.failover is None:
                self._refuse("no_failover", "no [failover] in the venue file")
                return None
            self.failover.forced = bool(p["on"])
            return {"kind": kind, "on": bool(p["on"])}
        if kind == "panic":
            self.operator.apply("blackout", {"on": True, "fade": self.operator.fade})
            if self.scenes is not None:
                self.scenes.panic(self.operator.fade)
            return {"kind": "panic", "fade": self.operator.fade}
        self._refuse("unknown_action", kind)
        return None

    def _cue(self, go, fade=None) -> dict | None:
        cues = self.config.cues
        if isinstance(go, str):
            index = next((i for i, q in enumerate(cues) if q.name == go), None)
        else:
            index = int(go) if 0 <= int(go) < len(cues) else None
        if index is None:
            self._refuse("unknown_cue", str(go))
            return None
        cue = cues[index]
        fade = cue.fade if fade is None else float(fade)
        targets: dict[str, float] = {}
        if cue.preset is not None:
            targets.update(load_preset(cue.preset))
        targets.update(cue.params)
        self.cue = index
        if self.scenes is not None and self.scenes.differs(cue.scene):
            self.scenes.switch(cue.scene, targets, fade)  # the params apply to the new scene
        else:
            self.operator.glide(self.show.scene, targets, fade)
        return {"kind": "cue", "index": index, "name": cue.name, "scene": cue.scene, "params": targets,
                "fade": fade}

    @property
    def next_cue(self) -> str | None:
        cues = self.config.cues
        return cues[self.cue + 1].name if self.cue + 1 < len(cues) else None
