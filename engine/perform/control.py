"""OSC remote control on `[control] osc = "HOST:PORT"`: a child process receives and checks
(engine.perform.control_child); the show drains valid actions once per frame, off nothing
but a pipe, so neither a slow sender nor a flood of garbage touches the render loop."""

from __future__ import annotations

import logging
import multiprocessing as mp

from engine.perform.config import ControlSpec
from engine.perform.control_child import run_control

log = logging.getLogger("symphony.perform")


class ControlError(RuntimeError):
    pass


class ControlReceiver:
    def __init__(self, spec: ControlSpec) -> None:
        self.spec = spec
        self.counts: dict[str, int] = {}  # refused packets and messages, by reason
        self.received = 0
        ctx = mp.get_context("spawn")  # no fork of a process holding GL contexts
        self._conn, child = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=run_control, args=(spec.host, spec.port, spec.allow, child),
                                 daemon=True, name="symphony-control")
        self._proc.start()
        child.close()
        if not self._conn.poll(20.0):
            self.close()
            raise ControlError("the OSC control receiver did not start")
        kind, value = self._conn.recv()
        if kind == "error":
            self.close()
            raise ControlError(value)
        self.port = int(value)
        log.info("OSC control on %s:%d", spec.host, self.port)

    def poll(self) -> list[tuple[str, dict]]:
        """Actions received since the last call, in order."""
        out = []
        try:
            while self._conn.poll():
                kind, value = self._conn.recv()
                if kind == "action":
                    out.append(value)
                elif kind == "counts":
                    self.counts = value
        except (EOFError, OSError):
            pass
        self.received += len(out)
        return out

    @property
    def refused(self) -> int:
        return sum(self.counts.values())

    def close(self) -> None:
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join(timeout=2)
        self._conn.close()
