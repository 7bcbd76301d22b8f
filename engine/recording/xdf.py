"""A small streaming XDF writer (the format LabRecorder writes and pyxdf reads).

File: the magic `XDF:` then chunks, each `[NumLengthBytes][Length][Tag u16][Content]`, with
Length counting the tag and content. Tags: 1 FileHeader (XML), 2 StreamHeader (StreamId u32 +
XML), 3 Samples (StreamId + varlen count + per sample: TimestampBytes u8 (8), f64 stamp,
values), 4 ClockOffset (StreamId, collection time, offset: all timestamps here are already on
one clock, so the offset is 0, written every 5 s of data as LabRecorder does, which keeps
pyxdf's clock synchronisation quiet and exact), 5 Boundary (a fixed 16-byte UUID that readers
scan for after damage), 6 StreamFooter. Multi-byte numbers are little-endian.

Crash safety: everything is written with single `os.write` calls of whole chunks on an
unbuffered file, so a process killed at any instant leaves a file that ends on a chunk
boundary; `flush()` is all it takes for the data so far to survive a `kill -9`.
"""

from __future__ import annotations

import os
import re
import struct
import threading
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

FILE_HEADER, STREAM_HEADER, SAMPLES, CLOCK_OFFSET, BOUNDARY, STREAM_FOOTER = 1, 2, 3, 4, 5, 6
BOUNDARY_UUID = bytes([0x43, 0xA5, 0x46, 0xDC, 0xCB, 0xF5, 0x41, 0x0F,
                       0xB3, 0x0E, 0xD5, 0x46, 0x73, 0x83, 0xCB, 0xE4])
OFFSET_EVERY = 5.0  # seconds of data between ClockOffset chunks
NUMERIC = {"float32": "<f4", "double64": "<f8", "int32": "<i4", "int16": "<i2", "int8": "i1"}


def varlen(n: int) -> bytes:
    if n < 256:
        return b"\x01" + struct.pack("<B", n)
    if n < 2**32:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


def chunk(tag: int, content: bytes) -> bytes:
    return varlen(len(content) + 2) + struct.pack("<H", tag) + content


# characters XML 1.0 does not allow in text (pyxdf's parser rejects the whole file for one)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_TEXT = 1024


def text(value: object) -> str:
    """Any value as XML text: escaped, control characters replaced, at most MAX_TEXT characters."""
    return escape(_NOT_XML.sub("\ufffd", str(value)[:MAX_TEXT]))


def xml(tag: str, fields: dict[str, object]) -> str:
    """Nested dicts become nested elements; lists repeat the element."""
    parts = []
    for key, value in fields.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            inner = xml("", item) if isinstance(item, dict) else text(item)
            parts.append(f"<{key}>{inner}</{key}>")
    body = "".join(parts)
    return f"<{tag}>{body}</{tag}>" if tag else body


class XdfWriter:
    """Append-only XDF file; thread-safe; `flush()` writes all pending chunks at once."""

    def __init__(self, path: str | Path, header: dict[str, object] | None = None) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self._lock = threading.Lock()
        self._pending: list[bytes] = []
        self._streams: dict[int, dict] = {}
        info = {"version": "1.0", **(header or {})}
        os.write(self._fd, b"XDF:" + chunk(FILE_HEADER, (
            '<?xml version="1.0"?>' + xml("info", info)).encode()))
        self.closed = False

    def add_stream(self, name: str, type_: str, channel_format: str = "float32", channels: int = 1,
                   nominal_srate: float = 0.0, desc: dict[str, object] | None = None) -> int:
        with self._lock:
            sid = len(self._streams) + 1
            info = {"name": name, "type": type_, "channel_count": channels,
                    "nominal_srate": nominal_srate, "channel_format": channel_format,
                    "source_id": f"symphony-{sid}", "created_at": 0, "desc": desc or {}}
            self._streams[sid] = {"format": channel_format, "channels": channels, "count": 0,
                                  "first": None, "last": None, "offset_at": None}
            body = '<?xml version="1.0"?>' + xml("info", info)
            self._pending.append(chunk(STREAM_HEADER, struct.pack("<I", sid) + body.encode()))
            return sid

    def samples(self, sid: int, t: np.ndarray, values: np.ndarray) -> None:
        """Numeric samples: `t` (n,), `values` (n,) or (n, channels) in the stream's format."""
        st = self._streams[sid]
        n = len(t)
        if n == 0:
            return
        dt = np.dtype([("b", "u1"), ("t", "<f8"), ("v", NUMERIC[st["format"]], (st["channels"],))])
        rec = np.empty(n, dt)
        rec["b"] = 8
        rec["t"] = t
        rec["v"] = np.asarray(values).reshape(n, st["channels"])
        self._queue(sid, n, float(t[0]), float(t[-1]), rec.tobytes())

    def strings(self, sid: int, t: list[float], values: list[str]) -> None:
        """String samples (one channel), e.g. markers."""
        if not t:
            return
        body = bytearray()
        for ti, value in zip(t, values, strict=True):
            data = value.encode("utf-8", "replace")  # lone surrogates: replaced, never a crash
            body += b"\x08" + struct.pack("<d", ti) + varlen(len(data)) + data
        self._queue(sid, len(t), t[0], t[-1], bytes(body))

    def _queue(self, sid: int, n: int, first: float, last: float, body: bytes) -> None:
        with self._lock:
            st = self._streams[sid]
            st["count"] += n
            st["first"] = first if st["first"] is None else min(st["first"], first)
            st["last"] = last if st["last"] is None else max(st["last"], last)
            self._pending.append(chunk(SAMPLES, struct.pack("<I", sid) + varlen(n) + body))
            if st["offset_at"] is None or st["last"] - st["offset_at"] >= OFFSET_EVERY:
                st["offset_at"] = st["last"]
                self._pending.append(chunk(CLOCK_OFFSET, struct.pack("<Idd", sid, st["last"], 0.0)))

    def flush(self) -> int:
        """Write everything pending (whole chunks, then a boundary); returns bytes written."""
        with self._lock:
            if self.closed or not self._pending:
                return 0
            data = b"".join(self._pending) + chunk(BOUNDARY, BOUNDARY_UUID)
            self._pending.clear()
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            return len(data)

    def close(self) -> None:
        if self.closed:
            return
        with self._lock:
            for sid, st in self._streams.items():
                footer = {"first_timestamp": st["first"] or 0.0, "last_timestamp": st["last"] or 0.0,
                          "sample_count": st["count"], "clock_offsets": ""}
                body = '<?xml version="1.0"?>' + xml("info", footer)
                self._pending.append(chunk(STREAM_FOOTER, struct.pack("<I", sid) + body.encode()))
        self.flush()
        with self._lock:
            self.closed = True
            os.close(self._fd)
