"""`symphony record`: run a source on the real-time clock and record it, without a window."""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from engine.clock import RealtimeClock
from engine.recording.recorder import Recorder
from engine.sources import SourceError, SourceFatal, open_source

log = logging.getLogger("symphony")
POLL_HZ = 50.0


@dataclass
class RecordStats:
    seconds: float
    samples: int
    events: int
    streams: int


def record_session(source: str, out: str | Path, seconds: float | None = None, seed: int = 0,
                   progress: bool = True) -> RecordStats:
    """Record until `seconds` pass, or SIGINT/SIGTERM; the file is valid at every flush."""
    stop = {"flag": False}

    def _stop(*_: object) -> None:
        stop["flag"] = True

    source_obj = open_source(source, seed=seed)  # a bad spec fails here, before any file exists
    old = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    recorder: Recorder | None = None
    clock = RealtimeClock(max_dt=1.0)
    t = 0.0
    next_report = 5.0
    try:
        with source_obj as src:
            recorder = Recorder(out, source)
            recorder.mark(0.0, "record start")
            while not stop["flag"]:
                tick = clock.tick()
                t = tick.t
                try:
                    chunks, events = src.poll(t)
                except SourceFatal:
                    raise  # refused credentials, a TLS mismatch: one error, a non-zero exit
                except SourceError as exc:
                    log.error("%s", exc)
                    chunks, events = [], []
                recorder.write(chunks, events)
                if progress and t >= next_report:
                    log.info("recording: %.0f s, %d samples, %d streams", t, recorder.samples,
                             len(recorder._streams))
                    next_report += 5.0
                if seconds is not None and t >= seconds:
                    break
                time.sleep(max(0.0, (tick.index + 1) / POLL_HZ - clock_now(clock)))
            chunks, events = src.finish(t)  # what the receiver still held: nothing lost at stop
            recorder.write(chunks, events)
            recorder.mark(t, "record stop")
    finally:
        if recorder is not None:
            recorder.close()
        for s, handler in old.items():
            signal.signal(s, handler)
    assert recorder is not None  # the with-block ran to its end
    return RecordStats(t, recorder.samples, recorder.events, len(recorder._streams))


def clock_now(clock: RealtimeClock) -> float:
    start = clock._start
    return 0.0 if start is None else clock._now() - start
