"""Calibration mode: move an output's corners or mesh points live, save them to the venue file.

Keys (in any output window): C on/off; Tab or 1-9 picks the output; M switches between the
corners and the mesh (a 3×3 mesh is created the first time); Space picks the next point;
arrows nudge it (Shift: ten times finer); S saves into the venue file, keeping its comments.
The mouse picks the nearest point and drags it. An edit that would fold the mapping over is
refused, and the last good mapping stays.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import glfw
import numpy as np

from engine.venue.config import Venue, VenueError, identity_mesh
from engine.venue.mapping import apply, corner_homography, corner_problem, mesh_problem
from engine.venue.writeback import save_mapping

log = logging.getLogger("symphony.calibrate")

STEP = 1.0 / 200.0
FINE = STEP / 10.0
_ARROWS = {glfw.KEY_LEFT: (-1, 0), glfw.KEY_RIGHT: (1, 0), glfw.KEY_UP: (0, -1), glfw.KEY_DOWN: (0, 1)}


class Calibrator:
    def __init__(self, venue: Venue, outputs: list) -> None:
        self.venue, self.outputs = venue, outputs
        self.active = False
        self.selected = 0
        self.mode = "corners"
        self.point = 0
        self.dragging = False
        self.message = ""

    @property
    def output(self):
        return self.outputs[self.selected]

    def toggle(self) -> None:
        self.active = not self.active
        for o in self.outputs:
            o.show_cursor(self.active)
        self.message = "calibration on" if self.active else "calibration off"

    def pick_output(self, index: int) -> None:
        if 0 <= index < len(self.outputs):
            self.selected, self.point = index, 0

    # --- points --------------------------------------------------------------------------------
    def handles(self) -> list[tuple[float, float]]:
        """Where the editable points of the selected output are, output-normalised."""
        spec = self.output.spec
        if self.mode == "corners":
            return [tuple(p) for p in spec.corners]
        mesh = np.asarray(spec.mesh, np.float64)
        return [tuple(p) for p in apply(corner_homography(spec.corners), mesh.reshape(-1, 2))]

    def move_point(self, x: float, y: float) -> bool:
        """Put the picked point at (x, y) on the output; False (and nothing changes) when
        that would fold the mapping."""
        spec = copy.deepcopy(self.output.spec)
        if self.mode == "corners":
            spec.corners[self.point] = (float(x), float(y))
            problem = corner_problem(spec.corners)
        else:
            inner = apply(np.linalg.inv(corner_homography(spec.corners)), np.array([x, y]))
            cols = len(spec.mesh[0])
            spec.mesh[self.point // cols][self.point % cols] = (float(inner[0]), float(inner[1]))
            problem = mesh_problem(spec.mesh)
        if problem:
            self.message = f"refused: {problem}"
            return False
        self.output.set_mapping(spec)
        self.venue.outputs[spec.index] = spec
        self.message = f"{spec.name}: {self.mode} point {self.point} at ({x:.4f}, {y:.4f})"
        return True

    def nudge(self, dx: float, dy: float) -> bool:
        x, y = self.handles()[self.point]
        return self.move_point(x + dx, y + dy)

    def set_mode(self, mode: str) -> None:
        self.mode, self.point = mode, 0
        spec = self.output.spec
        if mode == "mesh" and spec.mesh is None:
            spec = copy.deepcopy(spec)
            spec.mesh = identity_mesh(3, 3)
            self.output.set_mapping(spec)
            self.venue.outputs[spec.index] = spec

    def save(self) -> bool:
        if self.venue.path is None:
            self.message = "no venue file to save into"
            return False
        try:
            save_mapping(Path(self.venue.path), self.output.spec)
        except (VenueError, OSError) as exc:
            self.message = f"not saved: {exc}"
            log.error("%s", self.message)
            return False
        self.message = f"saved {self.output.name} to {self.venue.path.name}"
        log.info("%s", self.message)
        return True

    # --- input ---------------------------------------------------------------------------------
    def key(self, output, key: int, mods: int) -> bool:
        """Handle a key press in calibration mode; True when it was a calibration key."""
        if not self.active:
            return False
        if key == glfw.KEY_TAB:
            self.pick_output((self.selected + 1) % len(self.outputs))
        elif glfw.KEY_1 <= key <= glfw.KEY_9:
            self.pick_output(key - glfw.KEY_1)
        elif key == glfw.KEY_M:
            self.set_mode("mesh" if self.mode == "corners" else "corners")
        elif key == glfw.KEY_SPACE:
            self.point = (self.point + 1) % len(self.handles())
        elif key in _ARROWS:
            step = FINE if mods & glfw.MOD_SHIFT else STEP
            dx, dy = _ARROWS[key]
            self.nudge(dx * step, dy * step)
        elif key == glfw.KEY_S:
            self.save()
        else:
            return False
        return True

    def mouse(self, output, action: str, x: float, y: float) -> None:
        if not self.active:
            return
        if action == "press":
            self.pick_output(self.outputs.index(output))
            pts = np.asarray(self.handles())
            self.point = int(np.argmin(((pts - [x, y]) ** 2).sum(axis=1)))
            self.dragging = True
        elif action == "release":
            self.dragging = False
        elif action == "move" and self.dragging and output is self.output:
            self.move_point(x, y)

    def status(self) -> str:
        return (f"CALIBRATION {self.output.name} [{self.mode}] point {self.point} | Tab/1-9 output, "
                f"M corners/mesh, Space next, arrows (Shift fine), drag, S save, C done | {self.message}")
