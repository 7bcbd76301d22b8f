"""A perspective orbit camera: a data object the renderer reads, scenes move."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from pyrr import Matrix44


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
        return Matrix44.look_at(self.eye, np.asarray(self.target, np.float32),
                                np.array([0.0, 1.0, 0.0], np.float32), dtype=np.float32)

    def projection(self, aspect: float) -> np.ndarray:
        return Matrix44.perspective_projection(self.fov_y, aspect, self.near, self.far,
                                               dtype=np.float32)

    def orbit(self, d_azimuth: float = 0.0, d_elevation: float = 0.0, zoom: float = 1.0) -> None:
        self.azimuth = (self.azimuth + d_azimuth) % 360.0
        self.elevation = max(-89.0, min(89.0, self.elevation + d_elevation))
        self.distance = max(self.near * 2, self.distance * zoom)
