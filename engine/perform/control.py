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
    def __init__(self, spec: ControlSpec) -> None:
        self.spec = spec
        self.counts: dict[str, int] = {}  # refused packets and messages, by reason
        self.received = 0
        self._buf = b""
        code = "import sys; from engine.perform.control_child import main; sys.exit(main(sys.argv[1:]))"
        self._proc = subprocess.Popen([sys.executable, "-c", code, spec.host, str(spec.port),
                                       json.dumps(list(spec.allow))], stdout=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._fd = self._proc.stdout.fileno()  # type: ignore[union-attr]
        os.set_blocking(self._fd, False)
        deadline = time.monotonic() + START_TIMEOUT
        first = None
        while first is None:
            left = deadline - time.monotonic()
            if left <= 0 or (self._proc.poll() is not None and not self._buf):
                self.close()
                raise ControlError(f"OSC control on {spec.host}:{spec.port}: the receiver did not start")
            select.select([self._fd], [], [], min(left, 0.1))
            items = self._read()
            first = items[0] if items else None
        if first[0] == "error":
            self.close()
            raise ControlError(first[1])
        self.port = int(first[1])
        log.info("OSC control on %s:%d", spec.host, self.port)

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
        out = []
        for kind, value in self._read():
            if kind == "action":
                out.append((value[0], value[1]))
            elif kind == "counts":
                self.counts = value
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
