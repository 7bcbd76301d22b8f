"""Cues that change the scene, and panic's return to the safe scene.

The new scene is loaded and warmed up (setup, then half a second of simulation) before it
is shown, so nothing hitches on screen; the outputs dip to black over half the cue's fade,
the scene swaps at the bottom, and they come back over the other half. (An image crossfade
of the two scenes would need both rendered at once: twice the frame cost at the moment the
show can least afford it.)
"""

from __future__ import annotations

import logging
from pathlib import Path

from engine.perform.state import operator_state
from engine.scene import Scene, create_scene, resolve_scene_path, step_scene

log = logging.getLogger("symphony.perform")

WARM_UP = 0.5  # seconds simulated off screen before a new scene is shown


class SceneSwitcher:
    def __init__(self, show, reloader, seed: int, safe_scene: str | None, on_scene=None) -> None:
        self.show, self.reloader, self.seed = show, reloader, seed
        self.safe_scene = safe_scene or str(reloader.path)
        self.on_scene = on_scene  # called with (path) after each swap (show recordings)
        self.pending: tuple[Scene, Path, dict[str, float], float] | None = None
        self.phase = ""  # "out" (dipping), "in" (rising), "" (idle)
        self.panicking = False
        self.error: str | None = None

    @property
    def current(self) -> Path:
        return self.reloader.path

    def differs(self, ref: str | None) -> bool:
        return ref is not None and resolve_scene_path(ref) != self.current

    def switch(self, ref: str, targets: dict[str, float], fade: float) -> None:
        """Load and warm up `ref` now; swap it in at the bottom of the dip."""
        try:
            path = resolve_scene_path(ref)
            scene = create_scene(str(path), seed=self.seed)
            for _ in range(int(WARM_UP * 30)):
                step_scene(scene, 1.0 / 30.0)
        except Exception as exc:  # noqa: BLE001 - a bad cue never stops the show
            self.error = f"cue scene {ref}: {exc}"
            log.error("%s", self.error)
            return
        self.error = None
        self.pending = (scene, path, targets, fade)
        self.phase = "out"

    def panic(self, fade: float) -> None:
        self.panicking = True
        self._panic_wait = fade

    def advance(self, dt: float) -> None:
        """One frame of the dip, the swap, the rise; and panic's wait for black."""
        op = operator_state(self.show)
        if self.panicking:
            self._panic_wait -= dt
            if self._panic_wait <= 0 and op.level <= 0.0:
                self.panicking = False
                if resolve_scene_path(self.safe_scene) != self.current:
                    self.switch(self.safe_scene, {}, 0.0)
                    self._swap()
                op.blackout = False  # fade back up on the safe scene
            return
        if not self.phase:
            return
        scene, path, targets, fade = self.pending if self.pending else (None, None, {}, 0.0)
        half = max(fade / 2.0, 1e-3)
        if self.phase == "out":
            op.dip = max(op.dip - dt / half, 0.0)
            if op.dip <= 0.0:
                self._swap()
                self.phase = "in"
        elif self.phase == "in":
            op.dip = min(op.dip + dt / half, 1.0)
            if op.dip >= 1.0:
                self.phase = ""

    def _swap(self) -> None:
        if self.pending is None:
            return
        scene, path, targets, fade = self.pending
        self.pending = None
        scene.time = self.show.scene.time
        self.show.scene = scene
        self.reloader.retarget(str(path))
        operator_state(self.show).glides.clear()
        operator_state(self.show).glide(scene, targets, 0.0)
        log.info("cue: scene %s", path.name)
        if self.on_scene is not None:
            self.on_scene(path)
