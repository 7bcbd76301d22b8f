"""Network receivers run in a child process, so a busy render loop can never starve them.

A CPU-bound Python loop holds the GIL; a receiver thread in the same process then gets to
run only every switch interval (5 ms), one `recv` at a time, and a UDP socket overflows at a
few thousand packets a second. So OSC and MQTT receive in a child process
(`engine.sources.worker.main`) that drains its socket in a tight loop,
validates every sample through `Intake`, and ships batches (one per ~5 ms) to the parent over
a pipe as length-prefixed pickles. The child buffers what the parent has not read yet (up to
`MAX_BACKLOG` bytes), and the parent drains the pipe without blocking in `poll()`.

The config (which may hold an MQTT password) goes to the child through its stdin, never its
command line. A child that dies is respawned from `poll()` without waiting for it to be
ready, so a render loop never stalls on a restart. A child that reports a `fatal` error
(refused credentials, a TLS mismatch) is not respawned: `poll()` raises `SourceFatal` once.
`finish()` asks the child to stop, and returns what it had received but not yet shipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time

import numpy as np

from engine.data import Chunk, Event
from engine.sources.base import Source, SourceError, SourceFatal
from engine.sources.intake import Rejects

log = logging.getLogger("symphony.sources")
HEADER = struct.Struct("<I")
PIPE_SIZE = 1 << 20
MAX_BACKLOG = 512 << 20
START_TIMEOUT = 20.0


class WorkerSource(Source):
    """Parent side: starts the child, maps its unix-clock samples to show time."""

    worker_kind = ""

    def __init__(self) -> None:
        self.rejects = Rejects(self.kind)
        self.info: dict = {}
        self.status: dict = {}
        self._proc: subprocess.Popen | None = None
        self._buf = bytearray()
        self._offset: float | None = None  # unix time minus show time
        self.received = 0  # valid samples delivered
        self._retry_at = 0.0
        self._backoff = 1.0
        self.fatal = ""  # a final error: the source gives up (shown red by a live show)
        self.restarts = 0

    def config(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _spawn(self) -> None:
        code = "import sys; from engine.sources.worker import main; sys.exit(main(sys.argv[1:]))"
        self._proc = subprocess.Popen([sys.executable, "-c", code, self.worker_kind],
                                      stdout=subprocess.PIPE, stdin=subprocess.PIPE,
                                      env={**os.environ, "PYTHONUNBUFFERED": "1"})
        stdin = self._proc.stdin
        assert stdin is not None
        try:  # the config, secrets included, through the pipe: never on a command line
            stdin.write(json.dumps(self.config()).encode())
            stdin.close()
        except OSError:
            pass
        fd = self._proc.stdout.fileno()  # type: ignore[union-attr]
        os.set_blocking(fd, False)
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, 1031, PIPE_SIZE)  # F_SETPIPE_SZ: fewer wake-ups at high rates
        self.info = {}

    def start(self) -> None:
        if self._proc is not None:
            return
        if self.fatal:
            raise SourceFatal(f"source '{self.kind}': {self.fatal}")
        self._spawn()
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while not self.info:
            left = deadline - time.monotonic()
            if left <= 0 or self._proc.poll() is not None and not self._readable(0):
                self.stop()
                raise SourceError(f"source '{self.kind}': receiver did not start")
            self._readable(min(left, 0.1))
            for kind, payload in self._frames():
                self._handle(kind, payload, [], [])

    def _readable(self, timeout: float) -> bool:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return False
        try:
            while True:
                data = os.read(fd, 1 << 20)
                if not data:
                    return True
                self._buf += data
                if len(data) < (1 << 20):
                    return True
        except BlockingIOError:
            return True

    def _frames(self):
        buf = self._buf
        off = 0
        while len(buf) - off >= HEADER.size:
            (n,) = HEADER.unpack_from(buf, off)
            if len(buf) - off - HEADER.size < n:
                break
            yield pickle.loads(bytes(buf[off + HEADER.size:off + HEADER.size + n]))
            off += HEADER.size + n
        del buf[:off]

    def _handle(self, kind: str, payload, chunks: list[Chunk], events: list[Event]) -> None:
        if kind == "data":
            for c in payload:
                c.t = c.t - self._offset
                c.arrival -= self._offset
                c.source_offset = self._offset
                self.received += c.v.size
                chunks.append(c)
        elif kind == "rejects":
            self.rejects.merge(payload)
        elif kind == "ready":
            self.info = payload
        elif kind == "status":
            self.status.update(payload)
            if payload.get("message"):
                log.info("source %s: %s", self.kind, payload["message"])
        elif kind == "fatal":
            self.fatal = str(payload)
            self.status.update({"fatal": self.fatal, "subscribed": False})
            self.stop()
            raise SourceFatal(f"source '{self.kind}': {payload}")
        elif kind == "error":
            log.error("source %s: %s", self.kind, payload)
            if not self.info:
                self.stop()
                raise SourceError(f"source '{self.kind}': {payload}")

    def poll(self, now: float) -> tuple[list[Chunk], list[Event]]:
        if self._proc is None:
            if self.fatal or time.monotonic() < self._retry_at:
                return [], []
            self._spawn()  # not waiting for it: its "ready" arrives in a later poll
            self.restarts += 1
        if self._offset is None:
            self._offset = time.time() - now
        chunks: list[Chunk] = []
        events: list[Event] = []
        self._readable(0)
        for kind, payload in self._frames():
            self._handle(kind, payload, chunks, events)
        self.rejects.maybe_log()
        if self._proc is not None and self._proc.poll() is not None:  # died: take its last words
            self._read_to_eof(0)
            for kind, payload in self._frames():
                self._handle(kind, payload, chunks, events)
            code = self._proc.returncode if self._proc is not None else None
            self.stop()
            self._buf.clear()
            self.info = {}
            self._retry_at = time.monotonic() + self._backoff
            self._backoff = min(30.0, self._backoff * 2)
            raise SourceError(f"source '{self.kind}': receiver stopped (exit {code}); restarting")
        if self.info:
            self._backoff = 1.0
        return chunks, events

    def finish(self, now: float) -> tuple[list[Chunk], list[Event]]:
        """Stop the child cleanly and return everything it had received (nothing is lost at stop)."""
        proc = self._proc
        chunks: list[Chunk] = []
        events: list[Event] = []
        if proc is None or self._offset is None:
            self.stop()
            return chunks, events
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)  # the child flushes its batch, then exits
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            eof = self._read_to_eof(0.1)
            for kind, payload in self._frames():
                with contextlib.suppress(SourceError):
                    self._handle(kind, payload, chunks, events)
            if eof:
                break
        self.stop()
        return chunks, events

    def _read_to_eof(self, timeout: float) -> bool:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        if not select.select([fd], [], [], timeout)[0]:
            return False
        try:
            while data := os.read(fd, 1 << 20):
                self._buf += data
            return True
        except BlockingIOError:
            return False

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


# -- child side ----------------------------------------------------------------------------
class Output:
    """Non-blocking framed writer to the parent, with a bounded backlog."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, 1031, PIPE_SIZE)
        self.backlog = bytearray()
        self.dropped = 0

    def send(self, kind: str, payload) -> None:
        data = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
        if len(self.backlog) + len(data) > MAX_BACKLOG:
            self.dropped += 1  # the parent stopped reading: better than eating all memory
            return
        self.backlog += HEADER.pack(len(data)) + data
        self.pump()

    def pump(self) -> None:
        while self.backlog:
            try:
                n = os.write(self.fd, self.backlog[: 1 << 20])
            except BlockingIOError:
                return
            except BrokenPipeError:  # the parent is gone: nothing left to deliver to
                self.backlog.clear()
                return
            del self.backlog[:n]

    def drain(self, timeout: float = 5.0) -> None:
        """Write out the backlog before exiting (the parent reads to the end at stop)."""
        deadline = time.monotonic() + timeout
        while self.backlog and time.monotonic() < deadline:
            select.select([], [self.fd], [], 0.1)
            self.pump()


class Stopping:
    """Set by SIGTERM: receive loops end at their next turn and flush what they hold."""

    requested = False


class Fatal(Exception):
    """A receiver that cannot work and must not be restarted (e.g. refused credentials)."""


class Batcher:
    """Collects chunks for a few milliseconds and merges them per stream."""

    def __init__(self, out: Output, rejects: Rejects, every: float = 0.005, max_chunks: int = 4096) -> None:
        self.out, self.rejects, self.every, self.max_chunks = out, rejects, every, max_chunks
        self.chunks: list[Chunk] = []
        self.first = 0.0
        self._sent_counts: dict[str, int] = {}

    def add(self, chunks: list[Chunk]) -> None:
        if chunks and not self.chunks:
            self.first = time.monotonic()
        self.chunks += chunks

    def due(self) -> float:
        return max(0.0, self.first + self.every - time.monotonic()) if self.chunks else self.every

    def flush(self, force: bool = False) -> None:
        if self.chunks and (force or len(self.chunks) >= self.max_chunks
                            or time.monotonic() - self.first >= self.every):
            self.out.send("data", merge(self.chunks))
            self.chunks = []
        counts = {k: v - self._sent_counts.get(k, 0) for k, v in self.rejects.counts.items()
                  if v != self._sent_counts.get(k, 0)}
        if counts:
            self.out.send("rejects", counts)
            self._sent_counts = dict(self.rejects.counts)


def merge(chunks: list[Chunk]) -> list[Chunk]:
    """One chunk per stream and arrival order (in-order runs concatenated)."""
    out: dict[tuple[str, str], list[Chunk]] = {}
    result: list[Chunk] = []
    for c in chunks:
        group = out.setdefault((c.participant, c.channel), [])
        if not group or c.t[0] > group[-1].t[-1]:
            group.append(c)
        else:  # late data: keep it as its own chunk, in order of arrival
            result.append(c)
    for group in out.values():
        if len(group) == 1:
            result.append(group[0])
        else:
            g0 = group[-1]
            result.append(Chunk(g0.participant, g0.channel, np.concatenate([g.t for g in group]),
                                np.concatenate([g.v for g in group]), arrival=g0.arrival,
                                source_offset=g0.source_offset, alcove=g0.alcove))
    return result


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(argv: list[str]) -> int:
    _die_with_parent()
    signal.signal(signal.SIGTERM, lambda *_: setattr(Stopping, "requested", True))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    kind = argv[0]
    config = json.loads(argv[1] if len(argv) > 1 else sys.stdin.read())  # secrets: through stdin
    out = Output(sys.stdout.fileno())
    from engine.sources.intake import Intake

    Intake.warm_up()
    if kind == "osc":
        from engine.sources.osc import run_receiver
    elif kind == "mqtt":
        from engine.sources.mqtt import run_receiver
    else:
        out.send("error", f"unknown receiver '{kind}'")
        return 2
    code = 0
    try:
        run_receiver(config, out)
    except Fatal as exc:
        out.send("fatal", str(exc))
        code = 3
    except OSError as exc:
        out.send("error", str(exc))
        code = 1
    out.drain()
    return code
