"""Record what a source delivers (chunks and events) to XDF as the show runs.

One XDF stream per participant channel, named `<participant>/<channel>`, float32, with the
unit in the channel metadata; one string stream `markers` for events and operator actions
(JSON text). Timestamps are show seconds, as scenes saw them. A background thread flushes
every `flush_every` seconds (default 0.5), so a recorder killed with SIGKILL loses at most
that much; `close()` writes the stream footers.
"""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path

import numpy as np

from engine.data import CHANNELS, Chunk, Event
from engine.recording.xdf import XdfWriter


class Recorder:
    def __init__(self, path: str | Path, source: str = "", flush_every: float = 0.5) -> None:
        self.path = Path(path)
        # the source spec may hold credentials (mqtt://user:pass@...): record only its kind
        kind = source.split(":", 1)[0] if source else ""
        self.writer = XdfWriter(self.path, {"writer": "symphony", "clock": "show",
                                            "source_kind": kind, "datetime": _utc_now()})
        self._streams: dict[tuple[str, str], int] = {}
        self._markers = self.writer.add_stream("markers", "Markers", "string",
                                               desc={"content": "symphony events as JSON"})
        self.samples = 0
        self.events = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._flusher, args=(flush_every,),
                                        name="xdf-flush", daemon=True)
        self._thread.start()

    def _flusher(self, every: float) -> None:
        while not self._stop.wait(every):
            self.writer.flush()

    def _stream(self, chunk: Chunk) -> int:
        key = (chunk.participant, chunk.channel)
        sid = self._streams.get(key)
        if sid is None:
            spec = CHANNELS.get(chunk.channel)
            desc = {"participant": chunk.participant, "channel": chunk.channel,
                    "alcove": chunk.alcove, "source_offset": repr(float(chunk.source_offset)),
                    "channels": {"channel": {"label": chunk.channel, "unit": spec.unit if spec else "",
                                             "type": chunk.channel}}}
            if spec is not None and spec.simulated:
                desc["simulated"] = "true"
            sid = self._streams[key] = self.writer.add_stream(
                f"{chunk.participant}/{chunk.channel}", chunk.channel, desc=desc)
        return sid

    def write(self, chunks: list[Chunk], events: list[Event]) -> None:
        for chunk in chunks:
            n = len(chunk.v)
            if n:
                self.writer.samples(self._stream(chunk), np.asarray(chunk.t, np.float64),
                                    np.asarray(chunk.v, np.float32))
                self.samples += n
        if events:
            self.writer.strings(self._markers, [float(e.t) for e in events], [event_json(e) for e in events])
            self.events += len(events)

    def mark(self, t: float, action: str) -> None:
        """An operator action (start, stop, a note) in the marker stream."""
        self.writer.strings(self._markers, [t], [json.dumps({"kind": "operator", "action": action})])
        self.events += 1  # counted as `inspect` counts markers: the same number for the same file

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.writer.close()


def event_json(ev: Event) -> str:
    out: dict[str, object] = {"kind": ev.kind}
    if ev.participant is not None:
        out["participant"] = ev.participant
    if ev.value and math.isfinite(ev.value):
        out["value"] = ev.value
    return json.dumps(out)


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
