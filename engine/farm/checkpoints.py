"""The simulate-only pass: the whole show's state at chosen frames, as bytes.

A checkpoint is the pickled `Show` before the frame's `advance()`: everything the next frames
depend on. The scene's own module is pickled by value (cloudpickle), so a worker runs the
scene code that the checkpoint was made with, without the scene file.

Trails (post.trails) are the one piece of state that lives in the renderer: last frame's light
fed back into this one. A segment that starts while trails are on first renders a pre-roll
from an earlier checkpoint, long enough for the old light to fade below what 16-bit float
light can hold (`TRAIL_FLOOR`); frames before the pre-roll then no longer show.
"""

from __future__ import annotations

import math
import pickle
import sys
import time
from dataclasses import dataclass, field

import cloudpickle

from engine.clock import FixedClock
from engine.runtime import Show
from engine.scene import create_scene
from engine.sources import open_source

# light left after the pre-roll, relative to the light fed back: below what the 16-bit float
# history holds (2^-12 measured one-level differences in 8-bit frames; 2^-26 none). At the
# tapestry's 0.96 that is a 440-frame pre-roll: trails make segments cost more.
TRAIL_FLOOR = 2.0 ** -26
RECENT = 8  # checkpoints kept at the last GOP starts, so a pre-roll re-simulates at most a GOP


@dataclass(frozen=True)
class Job:
    """What every segment of one render needs to know (small, pickled to each worker)."""

    scene_ref: str
    frames: int  # one past the last frame rendered, counted from the show's start
    size: tuple[int, int]
    fps: float
    source: str = "synthetic"
    seed: int = 0
    layout: object = None  # a layout spec or Layout object (engine.render.layouts)
    codec: str | None = None
    crf: int = 18
    preset: str = "veryfast"
    gop: int = 60
    start: int = 0  # first frame rendered (frames before it are simulated, not drawn)


@dataclass
class Segment:
    first: int  # first frame written
    end: int  # one past the last frame written
    begin: int = -1  # frame the checkpoint restores (first, or earlier for a trails pre-roll)
    checkpoint: bytes = b""


@dataclass
class CheckpointStats:
    count: int = 0
    bytes_each: list[int] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the simulate-only pass(es)


def plan(job: Job, parts: int) -> list[Segment]:
    """About `parts` segments of whole GOPs from `job.start` (keyframes only at GOP starts, so
    they join as is)."""
    frames, gop = job.frames - job.start, job.gop
    gops = max(1, math.ceil(frames / gop))
    per = max(1, math.ceil(gops / max(1, parts)))
    return [Segment(job.start + g * gop, job.start + min(frames, (g + per) * gop))
            for g in range(0, gops, per)]


def gop_starts(job: Job) -> list[int]:
    return list(range(job.start, job.frames, job.gop))


def new_show(job: Job) -> tuple[Show, object]:
    """The show at frame 0 and its entered source (the caller exits it)."""
    scene = create_scene(job.scene_ref, seed=job.seed)
    src = open_source(job.source, seed=job.seed)
    return Show(scene, src.__enter__(), FixedClock(job.fps)), src


def dumps(show: Show) -> bytes:
    module = sys.modules.get(type(show.scene).__module__)
    if module is not None and module.__name__.startswith("symphony_scene_"):
        cloudpickle.register_pickle_by_value(module)
    return cloudpickle.dumps(show, protocol=pickle.HIGHEST_PROTOCOL)


def loads(blob: bytes) -> Show:
    return pickle.loads(blob)


def checkpoint(job: Job, segments: list[Segment]) -> CheckpointStats:
    """Fill each segment's `begin` and `checkpoint`, simulating the show once (and the part of
    a segment again where a later segment needs a trails pre-roll from inside it)."""
    stats = CheckpointStats()
    start = time.perf_counter()
    last = max(s.first for s in segments)  # simulate through the last start's own frame
    trails = [0.0] * (last + 1)
    starts = {s.first: s for s in segments}
    saved: dict[int, bytes] = {}
    recent: dict[int, bytes] = {}  # a few GOP starts back: where pre-rolls resume from
    show, src = new_show(job)
    try:
        for i in range(last + 1):
            if i in starts:
                saved[i] = dumps(show)
            elif i % job.gop == 0:
                recent[i] = dumps(show)
                if len(recent) > RECENT:
                    del recent[min(recent)]
            show.advance()
            trails[i] = float(show.scene.post.trails)
    finally:
        src.__exit__(None, None, None)
    saved = {**recent, **saved}
    for seg in segments:
        seg.begin = preroll_start(trails, seg.first)
    # pre-roll starts inside earlier segments: resume from that segment's checkpoint
    for seg in sorted(segments, key=lambda s: s.begin):
        if seg.begin in saved:
            continue
        base = max((f for f in saved if f <= seg.begin), default=None)
        if base is None:  # further back than the kept checkpoints: from the start
            show, src = new_show(job)
            base, saved[0] = 0, dumps(show)
            src.__exit__(None, None, None)
        show = loads(saved[base])
        for _ in range(base, seg.begin):
            show.advance()
        saved[seg.begin] = dumps(show)
    for seg in segments:
        seg.checkpoint = saved[seg.begin]
    saved.clear()
    for seg in segments:
        stats.bytes_each.append(len(seg.checkpoint))
    stats.count = len(segments)
    stats.seconds = time.perf_counter() - start
    return stats


def preroll_start(trails: list[float], first: int) -> int:
    """The frame from which rendering reproduces frame `first`'s trail history.

    Frame j adds trails[j] times the history into its light; the renderer starts a fresh (black)
    history whenever trails were off the frame before. So a render that starts at j is exact
    when trails are off at j or at j - 1; otherwise older light is still there, scaled by the
    product of the factors since, and the pre-roll goes back until that product is negligible.
    """
    keep = 1.0
    j = first
    while j > 0:
        if trails[j] <= 0.0 or trails[j - 1] <= 0.0:
            return j
        keep *= trails[j]
        if keep <= TRAIL_FLOOR:
            return j
        j -= 1
    return 0
