"""A perspective orbit camera: a data object the renderer reads, scenes move.

Besides the plain view and projection it gives off-axis (sheared-frustum) views for
light-field quilts and stereo: the camera slides sideways along its right vector and the
frustum shears back so every view shares the focal plane at `distance` (never toe-in, which
would tilt the focal planes and cause vertical parallax).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from pyrr import Matrix44

_UP = np.array([0.0, 1.0, 0.0], np.float32)


@dataclass
class Camera:
    """Orbits `target` at `distance`; angles in degrees, azimuth 0 looks along −z."""

    target: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    distance: float = 8.0
    azimuth: float = 0.0
    elevation: float = 10.0
    fov_y: float = 40.0
    near: float = 0.1
    far: float = 100.0

    @property
    def eye(self) -> np.ndarray:
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        offset = np.array([math.sin(az) * math.cos(el), math.sin(el), math.cos(az) * math.cos(el)])
        return (np.asarray(self.target, np.float64) + self.distance * offset).astype(np.float32)

    def view(self) -> np.ndarray:
        """World → view matrix (pyrr's row-vector layout, written straight to a GLSL mat4)."""
        return self._look(np.zeros(3, np.float32))

    def projection(self, aspect: float) -> np.ndarray:
        # plain ndarrays: pyrr's Matrix44 overloads operators in surprising ways
        return np.asarray(Matrix44.perspective_projection(self.fov_y, aspect, self.near, self.far,
                                                          dtype=np.float32))

    def _look(self, shift: np.ndarray) -> np.ndarray:
        target = np.asarray(self.target, np.float32)
        return np.asarray(Matrix44.look_at(self.eye + shift, target + shift, _UP, dtype=np.float32))

    @property
    def right(self) -> np.ndarray:
        """Unit vector to the camera's right (horizontal: the up vector is world +y)."""
        az = math.radians(self.azimuth)
        return np.array([math.cos(az), 0.0, -math.sin(az)], np.float32)

    def off_axis_projection(self, aspect: float, offset_x: float) -> np.ndarray:
        """The projection of a camera moved `offset_x` to the right, sheared so that what sat
        at the screen centre on the focal plane (at `distance`) stays there."""
        proj = self.projection(aspect)
        # x_ndc gains -P00 * offset / distance * (z / -z): column 2 of the GL matrix, row 0
        proj[2, 0] = -proj[0, 0] * offset_x / self.distance
        return proj

    def shifted(self, offset_x: float, aspect: float) -> tuple[np.ndarray, np.ndarray]:
        """(view, projection) of the camera slid `offset_x` scene units to its right with an
        off-axis frustum: the focal plane at `distance` is shared with the unshifted camera."""
        return self._look(self.right * np.float32(offset_x)), self.off_axis_projection(aspect, offset_x)

    def cone_offsets(self, views: int, cone: float) -> np.ndarray:
        """Sideways offsets of `views` cameras spread over a view cone of `cone` degrees:
        view i sits at angle (i / (views - 1) - 0.5) * cone, offset distance * tan(angle)."""
        if views < 2:
            return np.zeros(max(views, 0), np.float64)
        angles = (np.arange(views) / (views - 1) - 0.5) * math.radians(cone)
        return self.distance * np.tan(angles)

    def orbit(self, d_azimuth: float = 0.0, d_elevation: float = 0.0, zoom: float = 1.0) -> None:
        self.azimuth = (self.azimuth + d_azimuth) % 360.0
        self.elevation = max(-89.0, min(89.0, self.elevation + d_elevation))
        self.distance = max(self.near * 2, self.distance * zoom)
