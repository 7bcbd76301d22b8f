"""Live scene reload: a saved edit shows within a second, and a broken one never blanks the
screen.

`SceneReloader.poll` notices a changed scene file, imports it afresh and runs `setup()`. If
that fails (syntax error, exception in setup) the running scene keeps drawing and the error
is reported. If it works, the new scene inherits the running one's state — strand shapes and
particle positions (layers matched by their place among the scene's layers), the flow, parameter
values (unless the edit changed them), the clock — and takes
over on probation: should its first `update()` raise, the last good scene comes back.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from engine.layers import ParticleLayer, StrandLayer
from engine.scene import (
    Scene,
    SceneError,
    all_layers,
    describe_exception,
    load_scene_class,
    resolve_scene_path,
)
from engine.solver import FlowField

log = logging.getLogger("symphony")

STATE = {  # the arrays that are simulation state, not configuration a new setup() may change
    StrandLayer: ("x", "y", "z", "px", "py", "pz", "twist"),
    ParticleLayer: ("x", "y", "z", "age", "life", "fade", "tint", "owner", "spawns"),
}


def carry_state(old: Scene, new: Scene) -> list[str]:
    """Copy simulation state from `old` into `new`: the field, and each layer matched by its
    position among the scene's layers (the order `add` saw them, then any put in
    `scene.layers` by hand: `all_layers`; same type, arrays of the same shape), whatever
    container or attribute the scene keeps it in, and whichever it draws now. Returns what was
    kept, by attribute name where the layer has one (`layers[i]` otherwise)."""
    names = {id(value): name for name, value in vars(new).items()}
    kept = []
    if isinstance(old.field, FlowField) and isinstance(new.field, FlowField) \
            and old.field.grid.shape == new.field.grid.shape:
        new.field.grid[:] = old.field.grid
        new.field.offset[:] = old.field.offset
        kept.append(names.get(id(new.field), "field"))
    for i, (was, now) in enumerate(zip(all_layers(old), all_layers(new), strict=False)):
        if type(was) is not type(now) or type(now) not in STATE:
            continue
        src, dst = was._solver, now._solver
        arrays = [a for a in STATE[type(now)] if getattr(src, a).shape == getattr(dst, a).shape]
        for a in arrays:
            getattr(dst, a)[:] = getattr(src, a)
        if arrays:
            kept.append(names.get(id(now), f"layers[{i}]"))
    # parameters keep their live values, unless the edit itself changed them (a new default,
    # or a new value set in setup): then the edit wins
    old_specs, new_specs = old.params(), new.params()
    for pname, state in old._params.items():
        spec, before = new_specs.get(pname), old_specs.get(pname)
        if spec is None or before is None or spec.default != before.default:
            continue
        if pname in new._touched:
            continue
        new._params[pname].value = spec.clamp(state.value)
        new._params[pname].target = spec.clamp(state.target)
    new.time = old.time
    return kept


class SceneReloader:
    """Watches one scene file; swaps a freshly loaded scene into a running `Show`."""

    def __init__(self, ref: str, seed: int = 0, interval: float = 0.25) -> None:
        self.ref, self.seed, self.interval = ref, seed, interval
        self.path: Path = resolve_scene_path(ref)
        self._mtime = self._stat()
        self._next_check = 0.0
        self.error: str | None = None  # the last reload error, until a good save
        self.reloads = 0
        self._previous: Scene | None = None  # the last good scene while a new one is on probation
        self._clean: Scene | None = None  # the version before the current one, which ran clean
        self.failing = 0  # frames in a row whose update raised
        self.rollbacks = 0
        self.code = ""  # the source of the last version loaded

    def retarget(self, ref: str) -> None:
        """Watch another scene file (a cue changed the scene); its versions start afresh."""
        self.ref, self.path = ref, resolve_scene_path(ref)
        self._mtime, self._previous, self._clean, self.failing, self.error = self._stat(), None, None, 0, None

    def _stat(self) -> int:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return -1

    def poll(self, show) -> bool:
        """Reload if the file changed (checked at most every `interval` s). True if swapped."""
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + self.interval
        mtime = self._stat()
        if mtime == self._mtime:
            return False
        self._mtime = mtime
        old = show.scene
        try:
            self.code = self.path.read_text(encoding="utf-8")  # what a show recording keeps
            cls = load_scene_class(str(self.path))
            new = cls(seed=self.seed)
            new.setup()
        except SceneError as exc:
            return self._fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - any error in the artist's setup()
            return self._fail(f"setup failed: {describe_exception(exc)}")
        kept = carry_state(old, new)
        self._previous = old
        show.scene = new
        self.reloads += 1
        log.info("reloaded %s (kept %s)", self.path.name, ", ".join(kept) or "nothing")
        return True

    def after_frame(self, show) -> None:
        """End the probation of a freshly loaded scene: keep it, or bring the last good back."""
        if self._previous is None:
            return
        if show.update_failed:
            message = show.errors[-1].message if show.errors else "update failed"
            show.scene = self._previous
            self._fail(f"{message} — kept the previous version")
        else:
            self.error = None
            self._clean = self._previous
        self._previous = None

    def watch(self, show, limit: int = 30) -> bool:
        """After every frame: a version that passed probation but then fails `limit` frames in
        a row is rolled back to the last version that ran clean (True when it is)."""
        self.failing = self.failing + 1 if show.update_failed else 0
        if self.failing < limit or self._clean is None or self._previous is not None:
            return False
        message = show.errors[-1].message if show.errors else "update failed"
        carry_state(show.scene, self._clean)
        show.scene, self._clean, self.failing = self._clean, None, 0
        self.rollbacks += 1
        self._fail(f"{message} — {limit} frames failed in a row: rolled back to the last version "
                   "that ran clean")
        return True

    def _fail(self, message: str) -> bool:
        self.error = f"{self.path.name}: {message}" if self.path.name not in message else message
        log.error("scene reload: %s", self.error)
        return False
