"""OSC remote control on `[control] osc = "HOST:PORT"`: a child process receives and checks
(engine.perform.control_child) and writes valid actions to a pipe the show drains once per
frame without blocking, so neither a slow sender nor a flood of garbage touches the render
loop (as the data sources' receivers do)."""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import time

from engine.perform.config import ControlSpec

log = logging.getLogger("symphony.perform")
START_TIMEOUT = 20.0


class ControlError(RuntimeError):
    pass


class ControlReceiver:
    """`wait=False` (a standby show): the port may still be held by the show it takes over
    from; the receiver binds it as soon as it is free, and says so through `poll`."""

    def __init__(self, spec: ControlSpec, wait: bool = True) -> None:
        self.spec = spec
        self.counts: dict[str, int] = {}  # refused packets and messages, by reason
        self.received = 0
        self.port = spec.port
        self.ready = False
        self._buf = b""
        code = "import sys; from engine.perform.control_child import main; sys.exit(main(sys.argv[1:]))"
        self._proc = subprocess.Popen([sys.executable, "-c", code, spec.host, str(spec.port),
                                       json.dumps(list(spec.allow)), "0" if wait else "inf"],
                                      stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                      env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._fd = self._proc.stdout.fileno()  # type: ignore[union-attr]
        os.set_blocking(self._fd, False)
        self._early: list = []
        if not wait:
            return
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ready:
            left = deadline - time.monotonic()
            if left <= 0 or (self._proc.poll() is not None and not self._buf):
                self.close()
                raise ControlError(f"OSC control on {spec.host}:{spec.port}: the receiver did not start")
            select.select([self._fd], [], [], min(left, 0.1))
            self._early += self.poll()

    def _read(self) -> list:
        try:
            while True:
                data = os.read(self._fd, 1 << 16)
                if not data:
                    break
                self._buf += data
        except BlockingIOError:
            pass
        *lines, self._buf = self._buf.split(b"\n")
        return [json.loads(line) for line in lines if line]

    def poll(self) -> list[tuple[str, dict]]:
        """Actions received since the last call, in order."""
        out, self._early = self._early, []
        for kind, value in self._read():
            if kind == "action":
                out.append((value[0], value[1]))
            elif kind == "counts":
                self.counts = value
            elif kind == "ready":
                self.port, self.ready = int(value), True
                log.info("OSC control on %s:%d", self.spec.host, self.port)
            elif kind == "error":
                self.close()
                raise ControlError(value)
        self.received += len(out)
        return out

    @property
    def refused(self) -> int:
        return sum(self.counts.values())

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
