"""Lab Streaming Layer: `lsl://[name-or-type]` (pylsl), on this machine only.

liblsl's default discovery multicasts to the whole site, so before pylsl is imported this
module points `LSLAPICFG` at `lsl_machine.cfg` (ResolveScope = machine, loopback addresses
only, IPv6 off, TTL 0). It uses `setdefault`: a user who wants LAN discovery sets LSLAPICFG to
a config of their own, explicitly.

liblsl has no setting for the address three of its sockets bind to: an outlet's data and time
servers, and the UDP socket an inlet's clock synchronisation sends from (all on 0.0.0.0). The
engine makes no outlets, and in machine scope every outlet shares this machine's clock
(`local_clock` is CLOCK_MONOTONIC), so inlets skip clock synchronisation there and the engine's
process keeps no socket off loopback. With a config of one's own (LAN discovery) inlets
synchronise clocks, as they must across machines. Left: while a scan runs (`timeout` at start,
50 ms every `rescan` s) liblsl's resolver waits for answers on a UDP port bound to 0.0.0.0.

Streams are resolved at start and every few seconds after (new outlets join the show), and
matched by name, by type, or by participant (`lsl://p01` takes every `p01/...` stream). A
stream's channels map to participants and channels like recordings do (`<participant>/<channel>`
stream or channel labels, or a channel label with the stream name as participant). Timestamps
arrive in this machine's LSL clock (`proc_clocksync` off this machine) and are mapped to show
time. String streams become marker events.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

MACHINE_CONFIG = Path(__file__).with_name("lsl_machine.cfg")
os.environ.setdefault("LSLAPICFG", str(MACHINE_CONFIG))
MACHINE_SCOPE = os.environ["LSLAPICFG"] == str(MACHINE_CONFIG)  # our config: this machine only

import pylsl  # noqa: E402 - the config above must be in place before liblsl loads

from engine.data import Chunk, Event  # noqa: E402
from engine.recording.readers import _marker, split_label  # noqa: E402
from engine.sources.base import Source, SourceError  # noqa: E402
from engine.sources.intake import Intake, Rejects  # noqa: E402

log = logging.getLogger("symphony.sources")
MAX_CHUNK = 4096


def stream_channels(info: pylsl.StreamInfo) -> list[tuple[str, str] | None]:
    """(participant, channel) for each channel of a stream, None where it maps to nothing."""
    name, n = info.name(), info.channel_count()
    if n == 1 and "/" in name:
        return [split_label(name, "")]
    labels = []
    ch = info.desc().child("channels").child("channel")
    for _ in range(n):
        labels.append(ch.child_value("label") if not ch.empty() else "")
        ch = ch.next_sibling()
    default = name if split_label(f"{name}/ecg", "") else ""
    out = []
    for label in labels:
        out.append(split_label(label or info.type(), default) if (label or n == 1) else None)
    return out


def matches(info: pylsl.StreamInfo, query: str) -> bool:
    if not query:
        return True
    name = info.name()
    return query in (name, name.split("/")[0]) or info.type().lower() == query.lower()


class _Inlet:
    def __init__(self, info: pylsl.StreamInfo) -> None:
        self.uid = info.uid()
        self.inlet = pylsl.StreamInlet(info, max_buflen=60,
                                       processing_flags=0 if MACHINE_SCOPE else pylsl.proc_clocksync)
        full = self.inlet.info(timeout=2.0)
        self.inlet.open_stream(timeout=2.0)  # subscribe now: samples pushed from here on arrive
        self.strings = full.channel_format() == pylsl.cf_string
        self.map = [] if self.strings else stream_channels(full)


class LslSource(Source):
    kind = "lsl"
    options = {"query": str, "timeout": float, "rescan": float, "max_participants": int}
    description = "Lab Streaming Layer on this machine: lsl://[name-or-type] (pylsl)"

    def __init__(self, query: str = "", timeout: float = 2.0, rescan: float = 5.0,
                 max_participants: int = 256) -> None:
        if timeout < 0 or rescan <= 0:
            raise SourceError("source 'lsl': timeout and rescan must be positive")
        self.query, self.timeout, self.rescan = query, timeout, rescan
        self.rejects = Rejects(self.kind)
        self.intake = Intake(self.rejects, max_participants=max_participants)
        self.inlets: dict[str, _Inlet] = {}
        self._offset: float | None = None
        self._next_scan = 0.0

    def start(self) -> None:
        self._scan(self.timeout)
        if not self.inlets:
            log.info("source lsl: no stream matching '%s' yet; looking again every %g s",
                     self.query or "*", self.rescan)

    def _scan(self, wait: float) -> None:
        for info in pylsl.resolve_streams(wait_time=wait):
            if info.uid() in self.inlets or not matches(info, self.query):
                continue
            try:
                inlet = _Inlet(info)
            except (pylsl.util.LostError, pylsl.util.TimeoutError, RuntimeError) as exc:
                log.warning("source lsl: cannot open a stream (%s)", exc.__class__.__name__)
                continue
            if not inlet.strings and not any(inlet.map):
                self.rejects.add("unknown_channel")
                continue
            self.inlets[inlet.uid] = inlet
            log.info("source lsl: receiving %d channel(s) from a %s stream", len(inlet.map) or 1,
                     info.type() or "untyped")
        self._next_scan = pylsl.local_clock() + self.rescan

    def poll(self, now: float) -> tuple[list[Chunk], list[Event]]:
        clock = pylsl.local_clock()
        if self._offset is None:
            self._offset = clock - now
        if clock >= self._next_scan:
            self._scan(0.05)
        chunks: list[Chunk] = []
        events: list[Event] = []
        for uid, inl in list(self.inlets.items()):
            try:
                if inl.strings:
                    values, stamps = inl.inlet.pull_chunk(timeout=0.0, max_samples=MAX_CHUNK)
                    events += [_marker(ts - self._offset, row[0] if row else "")
                               for ts, row in zip(stamps, values, strict=False)]
                    continue
                values, stamps = inl.inlet.pull_chunk(timeout=0.0, max_samples=MAX_CHUNK, as_numpy=True)
            except pylsl.util.LostError:
                log.warning("source lsl: a stream was lost; it will be picked up again if it returns")
                del self.inlets[uid]
                continue
            n = len(stamps)
            if not n:
                continue
            t = np.asarray(stamps, np.float64)
            for k, mapped in enumerate(inl.map):
                if mapped is not None:
                    chunks += self.intake.add(mapped[0], mapped[1], t, values[:n, k],
                                              arrival=now, source_offset=self._offset)
        self.rejects.maybe_log()
        return chunks, events

    def stop(self) -> None:
        for inl in self.inlets.values():
            inl.inlet.close_stream()
        self.inlets.clear()
