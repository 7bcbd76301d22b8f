"""`symphony perform`: the show runs in a child process; if it dies (a crash, a kill, a driver
fault) a new one starts at once and resumes from the state file: same outputs on the same
monitors, same cue, same parameters. A child that ends cleanly (the operator quit) ends the
performance; one that fails at start-up with a usage error (a bad venue file) is not retried.
Crashes and restarts go to the show log.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.perform.actions import ShowLog

log = logging.getLogger("symphony.perform")

EXIT_USAGE = 2
BURST = 5  # this many crashes within BURST_WINDOW seconds: wait a second between restarts
BURST_WINDOW = 30.0


def child_command(argv: list[str], resume: bool, restart: int) -> list[str]:
    cmd = [sys.executable, "-m", "engine.cli", *argv, "--child"]
    return cmd + (["--resume"] if resume else []) + (["--restart", str(restart)] if restart else [])


def supervise(argv: list[str], state: Path, showlog: ShowLog, max_restarts: int | None = None) -> int:
    """Run the show as a child until it ends cleanly; restart it whenever it dies."""
    crashes: list[float] = []
    restarts = 0
    stopping = {"signal": None}
    proc: subprocess.Popen | None = None

    def forward(signum, _frame) -> None:
        stopping["signal"] = signum
        if proc is not None and proc.poll() is None:
            proc.terminate()

    old = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            started = time.monotonic()
            proc = subprocess.Popen(child_command(argv, resume=restarts > 0, restart=restarts))
            showlog.write("child start", pid=proc.pid, restart=restarts)
            rc = proc.wait()
            if stopping["signal"] is not None:
                showlog.write("stop", signal=stopping["signal"])
                return 0
            if rc == 0:
                showlog.write("end", pid=proc.pid)
                return 0
            ran = time.monotonic() - started
            showlog.write("crash", pid=proc.pid, returncode=rc, ran_s=round(ran, 2))
            log.error("the show (pid %d) died with %s after %.1f s: restarting from %s", proc.pid,
                      f"signal {-rc}" if rc < 0 else f"exit code {rc}", ran, state)
            if rc == EXIT_USAGE and restarts == 0 and ran < 30:
                return rc  # a bad venue or scene: restarting would fail the same way
            if max_restarts is not None and restarts >= max_restarts:
                return rc
            now = time.monotonic()
            crashes = [t for t in crashes if now - t < BURST_WINDOW] + [now]
            if len(crashes) >= BURST:
                time.sleep(1.0)
            restarts += 1
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
