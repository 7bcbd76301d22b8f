"""Headless lead and follower render loops (`render --lead` / `render --follow`).

A follower renders its `region` of the venue canvas: the camera's frustum cut off-axis to the
region plus a guard band (as the venue stage does for its outputs, so bloom joins across the
seam), then cropped. The lead runs the show (clock, source) and may render its own view.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.clock import FixedClock, Tick
from engine.network.nodes import FedClock, FedSource, FollowerLink, LeadLink, source_rejected, source_state
from engine.render import Renderer, headless_context
from engine.runtime import Show
from engine.scene import create_scene
from engine.sources import open_source

log = logging.getLogger("symphony")
GUARD = 64
Rect = tuple[int, int, int, int]


def parse_pair(text: str) -> tuple[int, int]:
    w, h = (int(v) for v in text.replace("x", ",").split(","))
    return w, h


def parse_rect(text: str) -> Rect:
    x, y, w, h = (int(v) for v in text.split(","))
    return x, y, w, h


class RegionView:
    """Renders one rectangle of a canvas (the whole canvas when `region` is None)."""

    def __init__(self, ctx, canvas: tuple[int, int], region: Rect | None, guard: int = GUARD) -> None:
        from engine.venue.stage import RegionLayout, guarded

        self.region = region or (0, 0, *canvas)
        x, y, w, h = self.region
        if w < 2 or h < 2 or x < 0 or y < 0 or x + w > canvas[0] or y + h > canvas[1]:
            raise ValueError(f"region {self.region} must lie inside the canvas {canvas}")
        self.rect = guarded(self.region, canvas, guard) if region else self.region
        gx, gy, gw, gh = self.rect
        layout = RegionLayout(canvas, self.rect, 0) if region else None
        self.renderer = Renderer(ctx, (gw, gh), layout=layout)
        self.full = self.renderer.new_frame_buffer()
        self.crop = (slice(y - gy, y - gy + h), slice(x - gx, x - gx + w))
        self.size = (w, h)

    def render(self, scene, out: np.ndarray) -> np.ndarray:
        self.renderer.render(scene, flip_y=True)
        self.renderer.read_into(self.full)
        out[...] = self.full[self.crop]
        return out


@dataclass
class LeadStats:
    frames: int
    seconds: float
    followers: list[str]
    dropped: list[tuple[str, int]]
    wait_ms: list[float] = field(default_factory=list)


def run_lead_render(scene_ref: str, url: str, followers: int, frames: int, fps: float = 30.0,
                    source: str = "synthetic", seed: int = 0, canvas: tuple[int, int] = (1280, 720),
                    region: Rect | None = None, out: str | Path | None = None, timeout: float = 2.0,
                    join_timeout: float = 60.0) -> LeadStats:
    """The lead: run the show at a fixed step, send every frame's inputs, wait for the nodes."""
    scene = create_scene(scene_ref, seed=seed)
    link = LeadLink(url, followers, timeout, join_timeout)
    ctx = writer = None
    try:
        joined = list(link.gather())
        if out is not None:
            from engine.outputs.video import VideoWriter

            ctx = headless_context()
            view = RegionView(ctx, canvas, region)
            writer = VideoWriter(out, view.size, fps)
        with open_source(source, seed=seed) as src:
            show = Show(scene, src, FixedClock(fps))
            taken: list = []
            show.taps.append(lambda chunks, events: taken.append((chunks, events)))
            start = time.perf_counter()
            for _ in range(frames):
                taken.clear()
                frame = show.advance()
                chunks, events = taken[0] if taken else ([], [])
                link.send(Tick(frame.index, frame.t, frame.dt), chunks, events, source_rejected(src),
                          state=source_state(src))
                if writer is not None:
                    writer.submit(view.render(scene, writer.buffer()))
                link.wait(frame.index)
            seconds = time.perf_counter() - start
        if writer is not None:
            writer.close()
            writer = None
    finally:
        if writer is not None:
            writer.abort()
        link.close()
        if ctx is not None:
            ctx.release()
    return LeadStats(frames, seconds, joined, list(link.dropped), link.wait_ms)


def run_follow_render(scene_ref: str, url: str, node: str, out: str | Path, canvas: tuple[int, int],
                      region: Rect | None = None, fps: float = 30.0, seed: int = 0,
                      timeout: float = 60.0) -> int:
    """A follower: re-run each frame the lead sends, render this node's region to `out`."""
    from engine.outputs.video import VideoWriter

    scene = create_scene(scene_ref, seed=seed)
    src, clock = FedSource(), FedClock()
    show = Show(scene, src, clock)
    ctx = headless_context()
    view = RegionView(ctx, canvas, region)
    writer = VideoWriter(out, view.size, fps)
    link = FollowerLink(url, node)
    drawn = 0
    try:
        while (inputs := link.next(timeout)) is not None:
            apply_actions(scene, inputs.actions)
            clock.next = inputs.tick
            src.feed(inputs)
            show.advance()
            writer.submit(view.render(scene, writer.buffer()))
            link.done(inputs.tick.index)
            drawn += 1
        writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        link.close()
        ctx.release()
    return drawn


def apply_actions(scene, actions: list[dict]) -> None:
    """Operator actions the lead applied before this frame: parameter changes."""
    params = scene.params()
    for a in actions:
        if a.get("kind") == "param" and a.get("name") in params:
            setattr(scene, a["name"], float(a["value"]))
