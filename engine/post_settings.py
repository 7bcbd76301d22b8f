"""`PostSettings`: the look of the final image, as plain numbers.

Kept apart from `engine.render.post` (which needs ModernGL) so a scene, the cheat sheet and
`import engine` can name it without loading GL.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PostSettings:
    """The look of the final image; scenes change these freely."""

    exposure: float = 1.0
    black_level: float = 0.001  # linear; below it is pure black (foils show black as clear)
    bloom_strength: float = 0.6
    bloom_threshold: float = 0.4
    bloom_knee: float = 0.3
    bloom_radius: float = 1.0
    bloom_levels: int = 5
    trails: float = 0.0  # 0..0.99: how much of the last frame's light stays (feedback)
    # the hologram look
    scanlines: float = 0.0  # 0..1 strength of horizontal scanlines
    # lines per picture height at any resolution; where the picture has fewer than about 1.5
    # rows per line they blend into their average dimming (as the picture shrunk would show)
    scanline_density: float = 360.0
    chromatic: float = 0.0  # chromatic fringe, in 1/1000 of the width at the edges
    flicker: float = 0.0  # 0..1 interference flicker (brightness bands drifting up)
    glitch: float = 0.0  # 0..1 horizontal tearing of blocks of rows; drive it from data glitches
    time: float = 0.0  # set by the runtime each frame: animates flicker and glitch
