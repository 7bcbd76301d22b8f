"""`symphony perform`: the show runs in a child process; if it dies (a crash, a kill, a driver
fault) a new one takes over at once and resumes from the state file: same outputs on the same
monitors, same cue, same parameters. The new one is already waiting: a standby child that has
imported the engine, loaded the venue and warmed the scene's compiled kernels, so taking over
costs opening the windows and the first frame, not a Python start-up. A child that ends
cleanly (the operator quit) ends the performance; one that fails at start-up with a usage
error (a bad venue file) is not retried.
Crashes and restarts go to the show log.
"""

from __future__ import annotations

import logging
import os
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


def child_command(argv: list[str], resume: bool, restart: int, standby: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "engine.cli", *argv, "--child"]
    cmd += ["--resume"] if resume else []
    return cmd + (["--restart", str(restart)] if restart else []) + (["--standby"] if standby else [])


def stand_by(venue, scene_ref: str | None, showlog: ShowLog | None = None):
    """In a standby child: warm up, start the control receiver (it binds the port once the
    show it replaces lets go), then wait for "go" on stdin. Returns the receiver."""
    from engine.perform.config import parse_perform
    from engine.perform.control import ControlReceiver
    from engine.venue import show as _show  # noqa: F401 - the show's modules, imported now

    config = parse_perform(venue)
    try:
        warm_up(scene_ref or venue.scene or "symphony", venue.seed or 0)
    except Exception as exc:  # noqa: BLE001 - the real start reports it properly
        log.warning("standby warm-up: %s", exc)
    control = ControlReceiver(config.control, wait=False) if config.control else None
    if showlog is not None:
        showlog.write("standby ready", pid=os.getpid())
    word = sys.stdin.readline()
    if word.strip() != "go":
        if control is not None:
            control.close()
        sys.exit(0)  # the supervisor ended: no show to take over
    log.info("standby: taking over")
    if showlog is not None:
        showlog.write("standby go", pid=os.getpid())
    return control


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
    spare: subprocess.Popen | None = None
    try:
        while True:
            started = time.monotonic()
            if spare is not None:  # the warm standby takes over
                proc, spare = spare, None
                _go(proc)
            else:
                proc = subprocess.Popen(child_command(argv, resume=restarts > 0, restart=restarts))
            showlog.write("child start", pid=proc.pid, restart=restarts)
            spare = subprocess.Popen(child_command(argv, True, restarts + 1, standby=True),
                                     stdin=subprocess.PIPE)
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
            if spare.poll() is not None:  # the standby died too: start afresh
                spare = None
    finally:
        if spare is not None:
            _retire(spare)
        for s, handler in old.items():
            signal.signal(s, handler)


def warm_up(scene_ref: str, seed: int) -> None:
    """A few frames of the scene, off screen on a synthetic source: numba loads the compiled
    kernels (solver, signals) from its cache now rather than when the show takes over. No GL
    here: a context made now (EGL) breaks the GLX windows made later in the same process."""
    from engine.clock import FixedClock
    from engine.runtime import Show
    from engine.scene import create_scene
    from engine.sources import open_source

    with open_source("synthetic", seed=seed) as src:
        show = Show(create_scene(scene_ref, seed=seed), src, FixedClock(30.0))
        for _ in range(3):
            show.advance()


def _go(proc: subprocess.Popen) -> None:
    try:
        proc.stdin.write(b"go\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
    except OSError:
        pass


def _retire(proc: subprocess.Popen) -> None:
    """A standby that was never needed: closing its stdin tells it to go."""
    try:
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
