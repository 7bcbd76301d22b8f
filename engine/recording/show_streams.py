"""Record the show itself beside its data, so a recording can be replayed frame for frame.

Four XDF streams join the data streams a `Recorder` writes:

| stream | format | one sample per | channels |
|---|---|---|---|
| `show/ticks` | double64 ×5 | frame | index, t, dt, events that frame consumed, source glitches so far |
| `show/chunks` | int32 ×3 | chunk a frame consumed | frame index, data stream id, samples |
| `show/actions` | string (JSON) | operator action | `{"frame", "kind", ...}`: params, cues, blackout, ... |
| `show/scenes` | string (JSON) | scene (re)load, rollback | `{"frame", "file", "code"}`: the code that ran |

A `{"frame", "rollback": true}` scene record says that frame's update failed on probation and
the scene from before the swap came back before the frame was drawn.

The first action is `{"kind": "show", ...}` with the seed, size, fps, layout and venue. A
frame's chunks are listed in the order the show got them, with their sample counts, so the
replay hands each frame exactly the chunks the live frame had, cut where they were cut. Ids are
the data streams' XDF stream ids; pyxdf loads the file as before (these are ordinary streams).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.data import Chunk, Event, Frame
from engine.recording.recorder import Recorder

TICKS, CHUNKS, ACTIONS, SCENES = "show/ticks", "show/chunks", "show/actions", "show/scenes"


def _labels(*names: str) -> dict:
    return {"channels": {"channel": [{"label": n} for n in names]}}


class ShowStreams:
    """Taps a show: `write` is its data tap, `tick` its per-frame observer; `action` and `scene`
    are called by whoever changes the show (keys, OSC, cues, reloads)."""

    def __init__(self, recorder: Recorder, meta: dict[str, object] | None = None,
                 source=None) -> None:
        self.recorder = recorder
        self.source = source  # its rejection count drives frame.glitch: replayed too
        w = recorder.writer
        self._ticks = w.add_stream(TICKS, "SymphonyTicks", "double64", 5,
                                   desc=_labels("index", "t", "dt", "events", "glitches"))
        self._chunks = w.add_stream(CHUNKS, "SymphonyChunks", "int32", 3,
                                    desc=_labels("frame", "stream", "samples"))
        self._actions = w.add_stream(ACTIONS, "SymphonyActions", "string")
        self._scenes = w.add_stream(SCENES, "SymphonyScenes", "string")
        self._pending: list[tuple[int, int]] = []
        self._events = 0
        self._rows = np.zeros((0, 3), np.int32)
        self.frames = 0
        self.action(0, 0.0, "show", **(meta or {}))

    def write(self, chunks: list[Chunk], events: list[Event]) -> None:
        """The show's tap: record the data, and which chunks this frame consumed."""
        self.recorder.write(chunks, events)
        for c in chunks:
            sid = self.recorder._streams.get((c.participant, c.channel))
            if sid is not None and len(c.v):  # refused ids never reach the file, nor a replay
                self._pending.append((sid, len(c.v)))
        self._events += len(events)

    def tick(self, frame: Frame) -> None:
        """After each frame: its clock tick and the chunks it consumed."""
        t = float(frame.t)
        w = self.recorder.writer
        w.samples(self._ticks, np.array([t]),
                  np.array([[frame.index, t, frame.dt, self._events, source_glitches(self.source)]],
                           np.float64))
        if self._pending:
            rows = np.array([(frame.index, sid, n) for sid, n in self._pending], np.int32)
            w.samples(self._chunks, np.full(len(rows), t), rows)
        self._pending.clear()
        self._events = 0
        self.frames += 1

    def action(self, frame: int, t: float, kind: str, **payload: object) -> None:
        """An operator action, applied before frame `frame` advances."""
        doc = {"frame": int(frame), "kind": kind, **payload}
        self.recorder.writer.strings(self._actions, [float(t)], [json.dumps(doc, default=_plain)])

    def scene(self, frame: int, t: float, path: str | Path, code: str, how: str = "reload") -> None:
        """A scene loaded before frame `frame`, with the code that ran: `how` is "reload" (a
        live edit: state carried over) or "cue" (a cue's scene, warmed up off screen)."""
        doc = {"frame": int(frame), "file": Path(path).name, "code": code, "how": how}
        self.recorder.writer.strings(self._scenes, [float(t)], [json.dumps(doc)])

    def rollback(self, frame: int, t: float, why: str = "probation") -> None:
        """After frame `frame` advanced, before it was drawn, an earlier version came back:
        "probation" (a reloaded scene's first update failed: the scene from before the swap)
        or "watch" (a version failed frames in a row: the last clean one, with its state)."""
        doc = {"frame": int(frame), "rollback": why}
        self.recorder.writer.strings(self._scenes, [float(t)], [json.dumps(doc)])


def source_glitches(source) -> int:
    """The count of bad input a source has rejected, as `Show` reads it for frame.glitch."""
    rejects = getattr(source, "rejects", None)
    if rejects is None:
        return 0
    return int(getattr(rejects, "glitches", getattr(rejects, "rejected", 0)))


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set, np.ndarray)):
        return list(value)
    return str(value)
