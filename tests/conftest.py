"""Shared fixtures: a real X display (Xvfb, started here when none is set) and data paths."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# the licence-restricted real recordings (../shared/data/README.md); SYMPHONY_SHARED_DATA moves
# them (point it at an empty folder to see what a clone without them runs)
SHARED_DATA = Path(os.environ.get("SYMPHONY_SHARED_DATA") or ROOT.parent / "shared" / "data")


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python run_symphony.py ARGS` the way a user would, from the repository root."""
    return subprocess.run([sys.executable, str(ROOT / "run_symphony.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def start_broker(**kw):
    """A private Mosquitto broker on loopback (tests.mosquitto.Broker). CI installs
    mosquitto, so there a missing broker is a failure; elsewhere the test skips, saying why."""
    from tests.mosquitto import Broker, BrokerError

    try:
        return Broker(**kw)
    except BrokerError as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def _free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


@pytest.fixture(scope="session")
def x_display() -> str:
    """DISPLAY of a real X server: the one already set, or an Xvfb started for the tests.

    In CI (CI=true) a missing Xvfb is a failure, never a skip: the window path must be tested.
    """
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        if os.environ.get("CI"):
            pytest.fail("Xvfb is not installed (apt-get install xvfb)")
        pytest.skip("no DISPLAY and no Xvfb (apt-get install xvfb)")
    n = _free_display()
    proc = subprocess.Popen([xvfb, f":{n}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = Path(f"/tmp/.X11-unix/X{n}")
    deadline = time.monotonic() + 15
    while not socket.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"Xvfb :{n} did not start")
        time.sleep(0.05)
    yield f":{n}"
    proc.terminate()
    proc.wait(timeout=10)


# --- two monitors on a real X server (X.Org dummy driver; shared/notes/multi-monitor-testing.md) ---

XORG_DUMMY_CONF = Path(__file__).parent / "xorg-dummy.conf"
# (output, mode name, modeline) of the test monitors: small, so llvmpipe draws them quickly
DUMMY_MONITORS = (("DUMMY0", "640x480v", "25.2 640 656 752 800 480 490 492 525"),
                  ("DUMMY1", "400x300v", "12 400 416 456 512 300 301 304 312"))


def xrandr(display: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["xrandr", *args], env={**os.environ, "DISPLAY": display},
                          capture_output=True, text=True, timeout=30)


def enable_dummy_monitor(display: str, index: int) -> None:
    """Switch DUMMY<index> on at its test mode, right of the previous one."""
    name, mode, _ = DUMMY_MONITORS[index]
    place = ["--pos", "0x0"] if index == 0 else ["--right-of", DUMMY_MONITORS[index - 1][0]]
    res = xrandr(display, "--output", name, "--mode", mode, *place)
    if res.returncode != 0:
        raise RuntimeError(f"xrandr could not switch {name} on: {res.stderr.strip()}")


@pytest.fixture(scope="session")
def two_monitors() -> str:
    """DISPLAY of an X.Org server (dummy driver) with two monitors: DUMMY0 640x480 at (0, 0)
    and DUMMY1 400x300 at (640, 0). In CI a missing Xorg or dummy driver is a failure."""
    xorg = shutil.which("Xorg")
    driver = Path("/usr/lib/xorg/modules/drivers/dummy_drv.so")
    if xorg is None or shutil.which("xrandr") is None or not driver.exists():
        message = "needs Xorg, xrandr and the dummy driver (apt-get install xserver-xorg-core " \
                  "xserver-xorg-video-dummy x11-xserver-utils)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    n = _free_display()
    log = Path(f"/tmp/symphony-xorg-{n}.log")
    proc = subprocess.Popen([xorg, f":{n}", "-noreset", "-nolisten", "tcp", "-config", str(XORG_DUMMY_CONF),
                             "-logfile", str(log)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    display = f":{n}"
    deadline = time.monotonic() + 30
    while xrandr(display, "--query").returncode != 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"Xorg {display} (dummy driver) did not start; see {log}")
        time.sleep(0.2)
    try:
        for name, mode, line in DUMMY_MONITORS:
            xrandr(display, "--newmode", mode, *line.split())
            xrandr(display, "--addmode", name, mode)
        for i in range(len(DUMMY_MONITORS)):
            enable_dummy_monitor(display, i)
        monitors = xrandr(display, "--listmonitors").stdout
        assert "Monitors: 2" in monitors, monitors
        yield display
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- tests that open GLFW windows in the test process run in a fresh interpreter ---
# Mesa cannot make a GLX (window) context current in a process that already made an EGL
# (headless) one: Xlib reports BadAccess on X_GLXMakeCurrent and exits the whole test run.
# Tests marked `own_process` therefore run one by one in a child pytest.

CHILD = "SYMPHONY_TEST_CHILD"


def _run_in_child(item) -> None:
    env = {**os.environ, CHILD: "1"}
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", item.nodeid],
                         cwd=item.config.rootpath, env=env, capture_output=True, text=True, timeout=900)
    if res.returncode == 5 or " skipped" in res.stdout and " passed" not in res.stdout:
        pytest.skip(res.stdout.strip().splitlines()[-1] if res.stdout.strip() else "skipped in child")
    if res.returncode != 0:
        pytest.fail(f"in a child process:\n{res.stdout[-6000:]}\n{res.stderr[-2000:]}", pytrace=False)


def pytest_sessionstart(session) -> None:
    """What every runner does first (`import engine` no longer does it): passive OpenMP waits
    and a kernel cache that matches the kernel sources."""
    from engine import kernel_cache

    kernel_cache.prepare()


def pytest_collection_modifyitems(config, items) -> None:
    if os.environ.get(CHILD):
        return
    for item in items:
        if item.get_closest_marker("own_process") is not None:
            item.runtest = lambda item=item: _run_in_child(item)
