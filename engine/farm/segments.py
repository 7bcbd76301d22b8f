"""Render one segment from its checkpoint, one file per GOP; join GOP files without re-encoding.

Every GOP is encoded by its own encoder into its own small file, whether one process renders
the whole show or many workers render parts of it: so the joined stream is the same, byte for
byte, however the work was shared out (an H.264 encoder's decisions depend on the frames it
has seen; one encoder per GOP sees the same frames everywhere). Intra-only formats (FFV1,
ProRes) join the same way; PNG frames are numbered files moved into place.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av

from engine.farm.checkpoints import Job, Segment, loads
from engine.outputs.formats import choose_format
from engine.outputs.video import VideoWriter
from engine.runtime import Show


def gop_name(folder: Path, first: int, out: Path) -> Path:
    if choose_format(out).container is None:  # PNG frames keep their final names
        return folder / out.name
    return folder / f"{first:09d}{out.suffix}"


def render_segment(job: Job, segment: Segment, out: str, folder: str, show: Show | None = None,
                   on_frame: Callable[[int], None] | None = None) -> list[str]:
    """Restore the show at `segment.begin` (or take `show`, already there), render and drop the
    trails pre-roll, then write frames [first, end) into `folder`, one file per GOP. Runs in a
    worker process, or in this one for a serial render."""
    from engine.render import Renderer, headless_context
    from engine.render.layouts import parse_layout

    out_path, folder_path = Path(out), Path(folder)
    if show is None:
        show = loads(segment.checkpoint)
    ctx = headless_context()
    written: list[str] = []
    try:
        renderer = Renderer(ctx, job.size, layout=parse_layout(job.layout))
        for _ in range(segment.begin, segment.first):
            show.advance()
            renderer.render(show.scene, flip_y=True)
        for g0 in range(segment.first, segment.end, job.gop):
            g1 = min(segment.end, g0 + job.gop)
            path = gop_name(folder_path, g0, out_path)
            writer = VideoWriter(path, job.size, job.fps, codec=job.codec, crf=job.crf,
                                 preset=job.preset, gop=job.gop, first_frame=g0 - job.start)
            try:
                for i in range(g0, g1):
                    show.advance()
                    renderer.render(show.scene, flip_y=True)
                    buf = writer.buffer()
                    writer.submit(renderer.read_into(buf))
                    if on_frame is not None:
                        on_frame(i)
                writer.close()
            except BaseException:
                writer.abort()
                raise
            written.append(str(path))
    finally:
        with contextlib.suppress(Exception):
            show.source.__exit__(None, None, None)
        ctx.release()
    return written


def join(parts: list[Path], out: Path, fps: float, first_frames: list[int], origin: int = 0) -> Path:
    """Concatenate GOP files (in frame order) into `out` by copying packets, frame `origin` at
    time 0; PNG frames are moved. The output appears only when complete."""
    fmt = choose_format(out)
    if fmt.container is None:
        for folder in {p.parent for p in parts}:
            for frame in sorted(folder.iterdir()):
                if frame.suffix == ".png":
                    os.replace(frame, out.parent / frame.name)
        return out
    partial = out.with_name(f".{out.stem}.partial{out.suffix}")
    try:
        with av.open(str(partial), "w", format=fmt.container) as dst:
            ostream = None
            for part, first in zip(parts, first_frames, strict=True):
                with av.open(str(part)) as src:
                    istream = src.streams.video[0]
                    if ostream is None:
                        ostream = dst.add_stream_from_template(istream)
                    rate = Fraction(fps).limit_denominator(1001)
                    shift = Fraction(first - origin) / rate / istream.time_base
                    offset = round(shift)
                    for packet in src.demux(istream):
                        if packet.dts is None:  # the demuxer's end-of-stream marker
                            continue
                        packet.pts += offset
                        packet.dts += offset
                        packet.stream = ostream
                        dst.mux(packet)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return out


def segments_folder(out: Path) -> Path:
    folder = out.parent / f".{out.name.replace('%', '_')}.segments"
    folder.mkdir(exist_ok=True)
    return folder


def cleanup(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
