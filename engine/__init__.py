"""Symphony: live health data → Numba strands and particles → ModernGL light.

The public API, cheat-sheet style. A scene file needs only these names.

Scenes and data
    Scene                 base class: title/background/max_participants; setup(), update(frame)
    Frame                 one frame of data: t, dt, index, participants, events, group
    Participant           id, slot, values[channel], raw, beat, beats, breath, breath_phase,
                          breath_rate; get(channel), norm(channel) -> 0..1
    Group                 count, synchrony (0..1), mean_phase, mean[channel], spread[channel]
    Event                 t, kind ("join", "beat", "breath"), participant, value
    CHANNELS              canonical channels with unit and plausible range

Layers (data objects; the renderer draws them)
    StrandLayer(bundles, strands_per_bundle, points, width=, intensity=)
                          .color[b] rgb, .glow[b], .togetherness, .solver (radius, spin, active)
    ParticleLayer(strands, count, size=, intensity=)
    FlowField(resolution, extent, seed, scale, strength)   set as scene.field

Look
    Camera                target, distance, azimuth, elevation, fov_y; orbit()
    PostSettings          exposure, bloom_strength, bloom_threshold, bloom_knee, bloom_radius

Running (what `run_symphony.py` calls)
    render_video(scene, out, seconds, fps, size, source, seed)   headless H.264 MP4
    render_array(scene, frames, size, fps, source, seed)         frames as a numpy array
    run_show(scene, source, size, monitor, fullscreen, ...)      a live window
    open_source(spec)     "synthetic:participants=12,seed=3"
    FixedClock, RealtimeClock
"""

from engine.camera import Camera
from engine.clock import FixedClock, RealtimeClock
from engine.data import CHANNELS, Event, Frame, Group, Participant
from engine.layers import ParticleLayer, StrandLayer
from engine.params import Param
from engine.render.post import PostSettings
from engine.scene import Scene
from engine.solver import FlowField
from engine.sources import open_source

__all__ = [
    "CHANNELS", "Camera", "Event", "FixedClock", "FlowField", "Frame", "Group",
    "Param", "ParticleLayer", "Participant", "PostSettings", "RealtimeClock", "Scene", "StrandLayer",
    "open_source", "render_array", "render_video", "run_show",
]


def __getattr__(name: str):
    # the runners pull in GL and video modules: import them only when asked for
    if name in ("render_video", "render_array"):
        from engine import offline
        return getattr(offline, name)
    if name == "run_show":
        from engine.live import run_show
        return run_show
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
