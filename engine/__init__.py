"""Symphony: live health data → Numba strands and particles → ModernGL light.

The public API, cheat-sheet style. A scene file needs only these names. The guide, with
worked examples: docs/scenes.md; a starter scene: `run_symphony.py new NAME`.

Scenes and data
    Scene                 base class: title/background/max_participants; setup(), update(frame);
                          add(layer), field, camera, post, seed, time; bind(), params(),
                          preset(), save_preset(path), load_preset(path)
    Param(default, low, high, smoothing=, doc=)   a declared, smoothed number (class attribute)
    scene.bind(param, channel, input, output=None, curve=, participant=)   channel → parameter;
                          curves: linear, smooth, ease_in, ease_out, exp, log
    Frame                 one frame of data: t, dt, index, participants, events, group,
                          alcoves{id: Group}, glitch (0..1 envelope of bad input), glitches
    Participant           id, slot, alcove, values[channel], raw, beat, beats, breath, breath_phase,
                          breath_rate, heart_rate, eda_tonic, eda_phasic, stale, quality[channel] (0..1);
                          get(channel, default), norm(channel) -> 0..1
    Group                 count, present, synchrony (0..1), mean_phase, mean[name], spread[name]
    Event                 t, kind ("join", "beat", "breath", "scr", "stale", "active", "left",
                          "marker"), participant, value
    CHANNELS              canonical channels with unit and plausible range

Layers (data objects; the renderer draws them)
    StrandLayer(bundles, strands_per_bundle, points, width=, intensity=, seed=, height=,
                ring_radius=, braid_radius=, origin=, axis=)
                          .color[b] rgb, .glow[b], .togetherness, .rim, .depth_fade, .visible,
                          .anchor(b, s); .solver: radius[b], spin[b], active[b], force[b],
                          braid_turns, braid_spin, rope_turns, bundle_turns, separation,
                          stiffness, field_force, origin, axis
    ParticleLayer(strands, count, size=, intensity=, seed=)
                          .visible; .solver: speed, lift, jitter, life_min, life_max
    FlowField(resolution, extent, seed, scale, strength, noise, decay)   set as scene.field;
                          attract(c, strength, radius), vortex(c, axis, ...), jet(c, direction, ...)

Look
    Camera                target, distance, azimuth, elevation, fov_y; orbit()
    PostSettings          exposure, black_level, bloom_strength, bloom_threshold, bloom_knee,
                          bloom_radius, trails, scanlines, chromatic, flicker, glitch

Running (what `run_symphony.py` calls)
    render_video(scene, out, seconds, fps, size, source, seed)   headless H.264 MP4
    render_array(scene, frames, size, fps, source, seed)         frames as a numpy array
    run_show(scene, source, size, monitor, fullscreen, ...)      a live window
    open_source(spec)     "synthetic:participants=12,seed=3", "synthetic:alcoves=4", "replay:x.csv"
    FixedClock, RealtimeClock
"""

import os

# Numba's OpenMP workers spin for a while after each parallel kernel. On a small CPU-only
# machine they share the cores with llvmpipe's rasteriser threads, which then wait: passive
# workers measured 5-10 ms a frame faster at 1080p on 2 cores. Set before any kernel runs
# (libgomp reads it when Numba first loads it); a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from engine import kernel_cache

kernel_cache.refresh()  # before any kernel module loads its cache

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
