"""Start recording a live show itself beside its data (engine.recording.show_streams): used by
the one-window show (engine.live) and the venue show (engine.venue.show) when `--record` is on."""

from __future__ import annotations

from pathlib import Path

from engine.recording.recorder import Recorder
from engine.recording.show_streams import ShowStreams


def record_show(recorder: Recorder, show, source, scene_path: Path, **meta) -> ShowStreams:
    """Tap `show` with ShowStreams: its ticks, the chunks each frame consumed, operator actions
    and, from frame 0, the scene code that ran. Call `tick(frame)` after each frame."""
    streams = ShowStreams(recorder, meta, source=source)
    streams.scene(0, 0.0, scene_path, Path(scene_path).read_text())
    show.taps.append(streams.write)
    return streams


def next_frame(show) -> tuple[int, float]:
    """The index of the frame the show advances next, and the time it last drew: what a swap or
    an action made between frames is recorded with."""
    f = show.last_frame
    return (f.index + 1, float(f.t)) if f is not None else (0, 0.0)
