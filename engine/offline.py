"""Headless rendering: a fixed-step clock, an EGL context, frames to arrays or to an MP4.

Same scene + same source + same seed gives the same frames, whatever the machine's speed:
time comes only from the fixed clock and every random choice is seeded.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.clock import FixedClock
from engine.outputs.video import VideoWriter
from engine.render import Renderer, headless_context
from engine.render.layouts import Layout, parse_layout
from engine.runtime import Show
from engine.scene import create_scene
from engine.sources import Source, SourceError, open_source
from engine.sources.spec import parse_spec

LIVE_KINDS = ("osc", "mqtt", "lsl")  # sources that deliver only what a sender sends


@dataclass
class RenderStats:
    frames: int
    seconds: float  # wall time
    path: Path | None = None
    warmup: float = 0.0  # wall seconds before the first frame was done (kernels, GL, source)
    compiled: float = 0.0  # of which compiling kernels (a cold cache: the first run)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def steady_fps(self) -> float:
        """Frames after the first, over the time they took: the rate once warmed up."""
        steady = self.seconds - self.warmup
        return (self.frames - 1) / steady if self.frames > 1 and steady > 0 else self.fps


class _Primed:
    """A live source whose first data arrived before the first frame: handed to that frame."""

    def __init__(self, source: Source, first: tuple[list, list]) -> None:
        self._source, self._first = source, first

    def __getattr__(self, name: str):
        return getattr(self._source, name)

    def poll(self, now: float) -> tuple[list, list]:
        chunks, events = self._source.poll(now)
        if self._first is not None:
            (c0, e0), self._first = self._first, None
            return c0 + chunks, e0 + events
        return chunks, events


def await_data(source: Source, spec: str, wait: float, opened: float | None = None,
               poll_every: float = 0.05) -> _Primed:
    """Wait up to `wait` wall seconds after `opened` (monotonic) for a live source's first
    data: a render of a sender that is not there fails, rather than writing a black video."""
    until = (time.monotonic() if opened is None else opened) + wait
    while True:
        chunks, events = source.poll(0.0)
        if chunks or events or getattr(source, "received", 0):  # the hub's features: `received`
            return _Primed(source, (chunks, events))
        if time.monotonic() >= until:
            raise SourceError(f"source {spec} delivered no data in {wait:g} s "
                              "(is the sender running? --wait S waits longer)")
        time.sleep(poll_every)


def _frames(scene_ref: str, count: int, size: tuple[int, int], fps: float, source: str,
            seed: int, next_buffer: Callable[[], np.ndarray], layout: str | Layout | None = None,
            publish: str | None = None, warm: Callable[[bool], object] | None = None,
            wait: float | None = None, render_scale: float = 1.0) -> Iterator[np.ndarray]:
    """Render `count` frames, each read back (top row first) into a buffer from next_buffer.
    `warm(software)` runs once the source is open (kernels compile while it connects); a live
    source then has until `wait` seconds after opening to deliver its first data."""
    scene = create_scene(scene_ref, seed=seed)
    ctx = headless_context()
    publisher = None
    try:
        renderer = Renderer(ctx, size, layout=parse_layout(layout), render_scale=render_scale)
        with open_source(source, seed=seed) as src:
            opened = time.monotonic()
            if warm is not None:
                warm(renderer.software)
            if wait is not None and parse_spec(source)[0] in LIVE_KINDS:
                src = await_data(src, source, wait, opened)  # type: ignore[assignment]
            show = Show(scene, src, FixedClock(fps))
            if publish:  # features at the show's own (fixed-step) times
                from engine.network.publisher import FeaturePublisher

                publisher = FeaturePublisher(publish)
                show.observers.append(publisher.offer)
            for _ in range(count):
                show.advance()
                renderer.render(scene, flip_y=True)
                yield renderer.read_into(next_buffer())
    finally:
        if publisher is not None:
            publisher.close()
        ctx.release()


def render_array(scene_ref: str, frames: int, size: tuple[int, int] = (160, 90), fps: float = 30.0,
                 source: str = "synthetic", seed: int = 0, layout: str | Layout | None = None,
                 render_scale: float = 1.0) -> np.ndarray:
    """All frames as one (frames, h, w, 4) uint8 array: for tests and notebooks. `layout` is
    an output layout spec (`quilt:8x6`, `pyramid`, ...; see engine.render.layouts);
    `render_scale` draws at that fraction of the size and upscales (engine.render.Renderer)."""
    layout = parse_layout(layout)
    out = np.empty((frames, size[1], size[0], 4), np.uint8)
    slots = iter(out)
    for _ in _frames(scene_ref, frames, size, fps, source, seed, lambda: next(slots), layout,
                     render_scale=render_scale):
        pass
    return out


class _Progress:
    """Progress on stderr: a rich bar on a terminal, a line every 10 % otherwise (CI logs).

    Why: the first run compiles kernels before any frame, and the first frame carries the
    warm-up (cached kernels loading, GL set-up), so rate and ETA count only the frames after
    it; before the first frame, kernel compilation reports its own progress."""

    def __init__(self, total: int, label: str, enabled: bool) -> None:
        self.total, self.label, self.enabled = total, label, enabled
        self.tty = enabled and sys.stderr.isatty()
        self.start = time.perf_counter()
        self.first_done: float | None = None  # when the first frame was done
        self._bar = None
        self._next_report = 0.1
        self._compile_start = 0.0

    def compiling(self, done: int, total: int) -> None:
        """engine.kernel_warm's report: kernels compiled so far, before the first frame."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if done == 0:
            self._compile_start = now
            print(f"compiling {total} kernels for this machine (first run only: they are cached for "
                  "the next runs)", file=sys.stderr, flush=True)
            return
        elapsed = now - self._compile_start
        if self.tty:
            end = "\n" if done == total else ""
            print(f"\r  kernels {done}/{total} compiled, {elapsed:.0f} s", end=end, file=sys.stderr,
                  flush=True)
        elif 4 * done // total > 4 * (done - 1) // total:  # every quarter
            print(f"  kernels {done}/{total} compiled, {elapsed:.0f} s", file=sys.stderr, flush=True)

    def rate(self, done: int, now: float) -> tuple[float, float | None]:
        """Frames per second after the first frame, and the seconds left (None: not known yet)."""
        if self.first_done is None or done < 2 or now <= self.first_done:
            return 0.0, None
        fps = (done - 1) / (now - self.first_done)
        return fps, (self.total - done) / fps

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if self.first_done is None:
            self.first_done = now
        if not self.enabled:
            return
        fps, eta = self.rate(done, now)
        eta_text = "-:--" if eta is None else f"{int(eta) // 60}:{int(eta) % 60:02d}"
        if self.tty:
            if self._bar is None:  # started at the first frame: nothing to draw before it
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeElapsedColumn,
                )

                self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), TextColumn("{task.fields[fps]:.1f} fps"),
                                     TimeElapsedColumn(), TextColumn("ETA {task.fields[eta]}"))
                self._task = self._bar.add_task(self.label, total=self.total, fps=0.0, eta=eta_text)
                self._bar.start()
            self._bar.update(self._task, completed=done, fps=fps, eta=eta_text)
        elif done / self.total >= self._next_report or done == self.total:
            print(f"{self.label}: {done}/{self.total} frames, {fps:.1f} fps, ETA {eta_text}",
                  file=sys.stderr, flush=True)
            while self._next_report <= done / self.total:
                self._next_report += 0.1

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def render_video(scene_ref: str, out: str | Path, seconds: float | None = 10.0, fps: float = 30.0,
                 size: tuple[int, int] = (1280, 720), source: str = "synthetic", seed: int = 0,
                 progress: bool = True, layout: str | Layout | None = None, *,
                 codec: str | None = None, crf: int = 18, preset: str = "veryfast",
                 gop: int | None = None, workers: int | None = None,
                 scheduler: str | None = None, start: float = 0.0, timing: str = "fixed",
                 publish: str | None = None, wait: float | None = 10.0,
                 render_scale: float = 1.0) -> RenderStats:
    """Render to a video file (format by suffix: .mp4, .mov, .mkv, frames/%05d.png; see
    engine/outputs/formats.py); the output exists under its name only if every frame made it.

    `gop` gives H.264/HEVC a keyframe every `gop` frames, each GOP encoded on its own (so a
    cluster render is the same stream); `workers` renders on a local Dask cluster of that many
    processes, `scheduler` on a running one (engine/farm/). `start` (seconds) cuts the
    beginning off: the show is simulated up to it, drawn from it. `seconds=None` renders to the
    end of a recording (a replay source), else 10 s. A live source (osc, mqtt, lsl) that
    delivers nothing within `wait` seconds fails the render (None: no limit). `render_scale`
    (0.1..1) draws at that fraction of `size` and upscales: one process, fixed timing only."""
    one_process = "a render scale below 1 renders in one process with fixed timing: drop "
    if render_scale != 1.0 and timing != "fixed":
        raise ValueError(one_process + "--timing show")
    if timing == "show":
        return _render_show(scene_ref, Path(out), source, seed, size, layout, start, seconds, progress,
                            codec=codec, crf=crf, preset=preset, gop=gop)
    if timing != "fixed":
        raise ValueError(f"timing must be 'fixed' or 'show', got {timing!r}")
    first = round(max(0.0, start) * fps)
    if seconds is None:  # to the end of a recording: the last frame is at or after its last sample
        length = recording_length(source, seed)
        count = math.ceil(length * fps - 1e-9) + 1 - first if length > 0 else round(10.0 * fps)
    else:
        count = round(seconds * fps)
    count = max(1, count)
    layout = parse_layout(layout)  # a bad spec fails before the file is opened
    fmt = VideoWriter.check(out, size, codec)  # a bad name or size fails before any work
    if first or workers is not None or scheduler is not None or (gop is not None and fmt.uses_crf):
        if publish:
            raise SourceError("--publish renders in one process from the start: drop --from/--workers/--gop")
        if render_scale != 1.0:
            raise ValueError(one_process + "--from/--workers/--scheduler/--gop")
        return _render_segmented(scene_ref, Path(out), first, count, fps, size, source, seed, layout,
                                 codec, crf, preset, gop, workers, scheduler, progress)
    writer = VideoWriter(out, size, fps, codec=codec, crf=crf, preset=preset, gop=gop)
    bar = _Progress(count, f"rendering {Path(out).name}", progress)
    compiled = [0.0]

    def warm(software: bool) -> None:
        from engine import kernel_warm

        compiled[0] = kernel_warm.warm(Path(scene_ref).stem, software, bar.compiling)

    try:
        frames = _frames(scene_ref, count, size, fps, source, seed, writer.buffer, layout, publish,
                         warm, wait, render_scale)
        for i, buf in enumerate(frames):
            writer.submit(buf)
            bar.update(i + 1)
        path = writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
    end = time.perf_counter()
    return RenderStats(count, end - bar.start, path, (bar.first_done or end) - bar.start, compiled[0])


def recording_length(source: str, seed: int = 0) -> float:
    """Seconds of data in a replay source's recording; 0 for live and synthetic sources."""
    with open_source(source, seed=seed) as src:
        return float(getattr(src, "duration", 0.0) or 0.0)


def _render_segmented(scene_ref, out: Path, first, count, fps, size, source, seed, layout, codec, crf,
                      preset, gop, workers, scheduler, progress) -> RenderStats:
    from engine.farm.checkpoints import Job
    from engine.farm.cluster import render_on_cluster, render_serial

    job = Job(scene_ref, first + count, tuple(size), fps, source, seed, layout, codec, crf, preset,
              gop or max(1, round(2 * fps)), first)
    bar = _Progress(count, f"rendering {out.name}", progress)
    try:
        if workers is None and scheduler is None:
            stats = render_serial(job, out, bar)
        else:
            stats = render_on_cluster(job, out, workers, scheduler, bar)
    finally:
        bar.close()
    return RenderStats(stats.frames, stats.seconds, stats.path)


def _render_show(scene_ref, out: Path, source: str, seed, size, layout, start, seconds, progress,
                 **video) -> RenderStats:
    """A recorded show, frame by frame with its own ticks (render --timing show)."""
    from engine.recording.show_replay import load_show, replay_frames
    from engine.sources import SourceError
    from engine.sources.spec import parse_spec

    kind, options = parse_spec(source)
    if kind != "replay":
        raise SourceError("--timing show replays a show recording: --source replay:session.xdf")
    rec = load_show(options["path"])
    t = rec.ticks[:, 1]
    first = int(np.searchsorted(t, start - 1e-9)) if start > 0 else 0
    end = rec.frames if seconds is None else int(np.searchsorted(t, start + seconds - 1e-9))
    count = max(1, end - first)
    span = t[min(end, rec.frames) - 1] - t[first] if count > 1 else 1.0
    fps = (count - 1) / span if span > 0 else 30.0  # the file's nominal rate; frames keep their own times
    writer = VideoWriter(out, size, fps, **video)
    bar = _Progress(count, f"replaying {out.name}", progress)
    begin = time.perf_counter()
    try:
        for i, buf in enumerate(replay_frames(rec, scene_ref, seed, size, layout, writer.buffer, first,
                                              count)):
            writer.submit(buf)
            bar.update(i + 1)
        path = writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
    return RenderStats(count, time.perf_counter() - begin, path)
