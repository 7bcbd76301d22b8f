"""Symphony: live health data → Numba strands and particles → ModernGL light.

The public API, cheat-sheet style: a scene file needs only these names. The guide, with
worked examples: docs/scenes.md; a starter scene: `run_symphony.py new NAME`.

Scenes and data
    Scene             title, background, max_participants; setup(), update(frame); add(layer),
                      layers, field, camera, post, seed, time; bind(), params(), preset(),
                      save_preset(path), load_preset(path). Refused: step, apply_bindings, ...
    Param(default, low, high, smoothing=, doc=)   a declared, smoothed number (class attribute)
    scene.bind(param, channel, input, output=None, curve=, participant=)   channel → parameter;
                      curves: linear, smooth, ease_in, ease_out, exp, log
    Frame             t, dt, index, participants, events, group, alcoves{id: Group},
                      glitch.level (0..1, log scale of bad input), glitch.count (this frame)
    Participant       id, slot, alcove, values[ch], raw[ch], pulse (0..1 at a heartbeat),
                      beat_count, breath (-1..1), breath_phase (rad), breath_rate, heart_rate,
                      eda_tonic, eda_phasic, stale, quality[ch] (0..1); get(ch, default), norm(ch)
    Group             count, present, synchrony (0..1), mean_phase, mean[ch], spread[ch]
    Event             t, kind (join beat breath scr stale active left marker), participant, value
    CHANNELS          canonical channels with unit and plausible range

Layers (the renderer draws them; per-bundle arrays take [b], or one value for all)
    StrandLayer(bundles, strands_per_bundle, points, width=, intensity=, seed=, height=,
                ring_radius=, braid_radius=, origin=, axis=)
                      per bundle: .color[b] rgb, .glow[b], .radius[b], .spin[b], .force[b] xyz,
                      .active[b] 0..1 (the engine's while .follow_participants: .fade_in,
                      .fade_out s); .togetherness 0..1, .braid_turns, .braid_spin, .rope_turns,
                      .bundle_turns, .separation, .stiffness, .bending, .damping, .field_force,
                      .glide (s), .height, .ring_radius, .braid_radius, .origin, .axis, .width,
                      .intensity, .rim, .depth_fade, .visible; .anchor(b, s), .set_length(L)
    ParticleLayer(strands, count, size=, intensity=, seed=)   .speed, .lift, .jitter,
                      .life_min, .life_max, .size, .intensity, .visible, .count;
                      state: .x .y .z .age .life .fade .tint .owner .spawns
    FlowField(resolution, extent, seed, scale (swirl size), strength, noise, decay)  scene.field;
                      attract(c, strength, radius), vortex(c, axis, strength, radius),
                      jet(c, direction, strength, radius): strength units/s², radius units
    smoothstep(e0, e1, x), mix(a, b, t), hue(h, saturation), palette(t, a, b, c, d)

Look
    Camera            target, distance, azimuth, elevation, fov_y, near, far; orbit(d_az, d_el, zoom)
    PostSettings      exposure, black_level, bloom_strength, bloom_threshold, bloom_knee,
                      bloom_radius, trails, scanlines, scanline_density, chromatic, flicker, glitch

Running (what `run_symphony.py` calls)
    render_video(scene, out, seconds, fps, size, source, seed)   headless H.264 MP4
    render_array(scene, frames, size, fps, source, seed)         frames as a numpy array
    run_show(scene, source, size, monitor, fullscreen, ...)      a live window
    open_source(spec)  "synthetic:participants=12,seed=3,sync_period=6,phase=0.2", "replay:x.csv"
    FixedClock, RealtimeClock
"""

from __future__ import annotations

import importlib
from typing import Any

# name → module that defines it. `import engine` loads none of them (no GL, no video, no Numba
# kernels, no environment changes): each loads on first use, e.g. `from engine import Scene`.
_LAZY = {
    "CHANNELS": "engine.data", "Event": "engine.data", "Frame": "engine.data",
    "Group": "engine.data", "Participant": "engine.data",
    "Camera": "engine.camera",
    "FixedClock": "engine.clock", "RealtimeClock": "engine.clock",
    "FlowField": "engine.solver.field",
    "ParticleLayer": "engine.layers", "StrandLayer": "engine.layers",
    "Param": "engine.params",
    "PostSettings": "engine.post_settings",
    "Scene": "engine.scene",
    "open_source": "engine.sources",
    "render_array": "engine.offline", "render_video": "engine.offline",
    "run_show": "engine.live",
    "hue": "engine.helpers", "mix": "engine.helpers", "palette": "engine.helpers",
    "smoothstep": "engine.helpers",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
