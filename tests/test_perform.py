"""Perform mode on a real X server with two monitors (X.Org dummy driver), real GL windows, a
real OSC client in another process, real sockets and a real supervisor whose child is killed
with SIGKILL: the console, OSC control of every address, cues, failover, the state file and
crash recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import glfw
import numpy as np
import pytest

from engine.perform.session import PerformSession
from engine.scene import param_state
from engine.venue import load_venue
from engine.venue.show import run_venue_show
from tests.conftest import ROOT

pytestmark = [pytest.mark.window, pytest.mark.own_process]
SCENE = ROOT / "tests" / "scenes" / "perform_panel.py"


@pytest.fixture
def display(two_monitors, monkeypatch):
    monkeypatch.setenv("DISPLAY", two_monitors)
    return two_monitors


class Client:
    """tests/osc_control_client.py in its own process."""

    def __init__(self, port: int) -> None:
        script = str(ROOT / "tests" / "osc_control_client.py")
        self.proc = subprocess.Popen([sys.executable, script, str(port)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, cwd=ROOT)

    def send(self, *words: object) -> float:
        self.proc.stdin.write(" ".join(str(w) for w in words) + "\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline().split()[1])

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def venue_text(tmp_path: Path, port: int = 0, extra: str = "") -> Path:
    other = tmp_path / "other_panel.py"
    other.write_text(SCENE.read_text().replace("tint = 0.3", "tint = 0.9"))
    path = tmp_path / "show.toml"
    path.write_text(f"""
[show]
scene = "{SCENE}"
source = "synthetic:participants=3"
[[output]]
name = "front"
monitor = 0
size = [160, 120]
[[output]]
name = "side"
monitor = 1
fullscreen = true
[console]
monitor = 0
size = [360, 240]
[control]
osc = "127.0.0.1:{port}"
fade = 0.2
[[cue]]
name = "dim"
params = {{ glow = 0.1 }}
fade = 0
[[cue]]
name = "warm"
params = {{ glow = 0.5 }}
fade = 0.3
[[cue]]
name = "other"
scene = "{other}"
params = {{ glow = 0.7 }}
fade = 0.4
[failover]
stale_after = 1.0
fallback = "synthetic:participants=2"
{extra}""")
    return path


def centre(state, name: str) -> np.ndarray:
    px = state.pixels(name)
    h, w = px.shape[:2]
    return px[h // 2 - 4:h // 2 + 4, w // 2 - 4:w // 2 + 4, :3].reshape(-1, 3).mean(axis=0)


def read_state(path: Path) -> dict:
    for _ in range(50):
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            time.sleep(0.02)
    raise AssertionError(f"no state file {path}")


# every OSC address, in order: what to send and what must hold once it has been applied
# (`ok(before, now, session, state)`: colours of the outputs' centres before and now)
def _steps():
    red = lambda c: c["front"][0]  # noqa: E731
    return [
        (("/symphony/param/glow", 1.0), lambda b, n, s, st: red(n) > red(b) + 30),
        (("/symphony/param/glow", 5.0), lambda b, n, s, st: s.dispatcher.refused.get("out_of_range") == 1
         and param_state(st.show.scene, "glow").target == 1.0),
        (("/symphony/param/nope", 1.0), lambda b, n, s, st: s.dispatcher.refused.get("unknown_param") == 1),
        (("/symphony/master", 0.5), lambda b, n, s, st: all(
            abs(n[o][2] - 0.5 * b[o][2]) <= 3 for o in n)),
        (("/symphony/master", 1.0), lambda b, n, s, st: True),
        (("/symphony/fade", 0.3), lambda b, n, s, st: abs(s.dispatcher.operator.fade - 0.3) < 1e-6),
        (("/symphony/blackout", 1), lambda b, n, s, st: all(
            st.pixels(o)[..., :3].max() == 0 for o in n)),
        (("/symphony/blackout", 0), lambda b, n, s, st: red(n) > 100 and s.dispatcher.operator.level == 1.0),
        (("/symphony/freeze", 1), lambda b, n, s, st: s.frozen),
        (("/symphony/param/glow", 0.0), lambda b, n, s, st: np.allclose(n["front"], b["front"])),
        (("/symphony/freeze", 0), lambda b, n, s, st: red(n) < red(b) - 30),
        (("/symphony/cue/go", "warm"), lambda b, n, s, st: s.dispatcher.cue == 1
         and abs(param_state(st.show.scene, "glow").target - 0.5) < 1e-6),
        (("/symphony/cue/next",), lambda b, n, s, st: s.dispatcher.cue == 2
         and n["front"][2] > b["front"][2] + 40),
        (("/symphony/cue/prev",), lambda b, n, s, st: s.dispatcher.cue == 1),
        (("/symphony/cue/go", 0), lambda b, n, s, st: s.dispatcher.cue == 0
         and abs(param_state(st.show.scene, "glow").target - 0.1) < 1e-6),
        (("/symphony/source/failover", 1), lambda b, n, s, st: s.failover.active == "fallback"),
        (("/symphony/source/failover", 0), lambda b, n, s, st: s.failover.active == "live"),
    ]


def test_osc_drives_every_address_on_a_show_with_console_two_outputs_cues_and_failover(display, tmp_path):
    path = venue_text(tmp_path)
    venue = load_venue(path)
    state_file = tmp_path / "state.json"
    session = PerformSession(venue, state_file, resume=False)
    client = Client(session.control.port)
    steps, results, shots = _steps(), [], {}
    progress = {"step": -1, "count": 0, "before": None, "applied_at": None}

    def look(state):
        colours = {o.name: centre(state, o.name) for o in state.outputs}
        if state.frame < 5:
            return None
        if progress["step"] == -1 or progress["applied_at"] is not None and (
                steps[progress["step"]][1](progress["before"], colours, session, state)):
            if progress["step"] >= 0:
                results.append((steps[progress["step"]][0], state.frame - progress["applied_at"]))
            if steps[progress["step"]][0] == ("/symphony/freeze", 1) and "root" not in shots:
                shots["root"] = _root_capture(display)
                shots["side"] = state.pixels("side")
                shots["console_pos"] = glfw.get_window_pos(session.console.handle)
                shots["cursor"] = [glfw.get_input_mode(o.handle, glfw.CURSOR) for o in state.outputs]
                shots["iconify"] = [glfw.get_window_attrib(o.handle, glfw.AUTO_ICONIFY)
                                    for o in state.outputs]
            progress["step"] += 1
            if progress["step"] == len(steps):
                return True
            progress["before"], progress["applied_at"] = colours, None
            progress["count"] = session.dispatcher.handled
            client.send(*steps[progress["step"]][0])
        elif progress["applied_at"] is None and session.dispatcher.handled > progress["count"]:
            progress["applied_at"] = state.frame
        elif progress["applied_at"] is not None and state.frame - progress["applied_at"] > 40:
            raise AssertionError(f"{steps[progress['step']][0]} showed no effect within 40 frames")
        return state.frame > 3000

    try:
        run_venue_show(venue, vsync=False, on_frame=look, perform=session, record=tmp_path / "show.xdf")
    finally:
        client.close()
    assert [r[0] for r in results] == [s[0] for s in steps]
    # every applied action is in the show recording, in the frame it was applied before
    from engine.recording.show_replay import load_show

    recorded = load_show(tmp_path / "show.xdf")
    kinds = [a["kind"] for frame in sorted(recorded.actions) for a in recorded.actions[frame]]
    assert kinds == ["param", "param", "master", "master", "fade", "blackout", "blackout", "freeze", "param",
                     "freeze", "cue", "cue", "cue", "cue", "failover", "failover"]
    assert len(recorded.scenes) == 2  # the venue's scene, then cue "other"'s
    # applied before the frame advanced: the output pixels show it in that very frame, except
    # the fades (blackout 0.3 s, cue dips 0.4 s) which take their time
    quick = [f for (address, *_), f in results if not address.startswith(("/symphony/blackout",
                                                                           "/symphony/cue/"))]
    assert max(quick) <= 2, results
    doc = read_state(state_file)
    assert doc["cue"] == 0 and doc["cue_name"] == "dim" and doc["failover"] == "live"
    assert doc["pid"] == os.getpid() and set(doc["outputs"]) == {"front", "side"}
    # console pixels never on an output: the X server's own image of monitor 1 (the side
    # output, full screen) is exactly what that output drew; the console sits on monitor 0
    root, side = shots["root"], shots["side"]
    assert root is not None, "ImageMagick's import is needed (apt-get install imagemagick)"
    assert np.abs(root[0:300, 640:1040].astype(int) - side[..., :3].astype(int)).max() <= 2
    assert shots["console_pos"][0] < 640
    assert shots["cursor"] == [glfw.CURSOR_HIDDEN, glfw.CURSOR_HIDDEN] and shots["iconify"] == [0, 0]
    log = [json.loads(line) for line in (tmp_path / "state.log").read_text().splitlines()]
    assert sum(1 for e in log if e.get("origin") == "osc") >= len(steps) - 1


def _root_capture(display: str) -> np.ndarray | None:
    """The X server's screen as it is now (ImageMagick's import), RGB; None without import."""
    try:
        res = subprocess.run(["import", "-window", "root", "-depth", "8", "rgb:-"], capture_output=True,
                             timeout=20, env={**os.environ, "DISPLAY": display})
    except FileNotFoundError:
        return None
    out = subprocess.run(["xdpyinfo"], capture_output=True, text=True, env={**os.environ, "DISPLAY": display})
    w, h = next(line.split()[1] for line in out.stdout.splitlines() if "dimensions:" in line).split("x")
    return np.frombuffer(res.stdout, np.uint8).reshape(int(h), int(w), 3)


def test_a_garbage_flood_on_the_control_port_does_not_stop_the_show(display, tmp_path):
    venue = load_venue(venue_text(tmp_path))
    session = PerformSession(venue, tmp_path / "state.json", resume=False)
    client = Client(session.control.port)
    seen = {"flood": None, "frames": 0, "times": []}

    def look(state):
        seen["times"].append(time.perf_counter())
        if state.frame == 5:  # the flood runs in the client process while the show draws on
            client.proc.stdin.write("flood 3\n")
            client.proc.stdin.flush()
            seen["flood"] = time.monotonic()
        elif seen["flood"] and "after" not in seen and time.monotonic() - seen["flood"] > 3.5:
            seen["after"] = state.frame
            client.proc.stdout.readline()  # "flooded N"
            seen["before"] = session.dispatcher.count
            client.send("/symphony/param/glow", 0.9)
        elif "after" in seen and session.dispatcher.count > seen["before"]:
            return True
        return state.frame > 2000

    try:
        run_venue_show(venue, vsync=False, on_frame=look, perform=session)
        refused = dict(session.control.counts)
    finally:
        client.close()
    assert refused.get("malformed", 0) > 100 and refused.get("unknown_address", 0) > 100, refused
    assert param_state(session.show.scene, "glow").target == pytest.approx(0.9)
    # the show kept drawing through the flood (its frame times: benchmarks/perform.py)
    assert seen["after"] - 5 > 10


OSC_SENDER = """
import sys, time
from pythonosc.udp_client import SimpleUDPClient
c = SimpleUDPClient("127.0.0.1", int(sys.argv[1]))
end = time.time() + float(sys.argv[2])
while time.time() < end:
    c.send_message("/alcove/a1/p/live1/heart_rate", 70.0)
    time.sleep(0.05)
print(f"{time.time():.6f}", flush=True)
"""


def test_failover_takes_over_when_live_data_stops_and_hands_back_when_it_returns(display, tmp_path):
    import socket

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    data_port = probe.getsockname()[1]
    probe.close()
    path = venue_text(tmp_path)
    path.write_text(path.read_text().replace('source = "synthetic:participants=3"',
                                             f'source = "osc://127.0.0.1:{data_port}"'))
    venue = load_venue(path)
    session = PerformSession(venue, tmp_path / "state.json", resume=False)
    log: dict[str, object] = {"dark": []}

    def send(seconds: float) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", OSC_SENDER, str(data_port), str(seconds)],
                                stdout=subprocess.PIPE, text=True)

    def look(state):
        fo, now = session.failover, time.time()
        green = [centre(state, o.name)[1] for o in state.outputs]
        log["lit"] = log.get("lit") or min(green) >= 20  # the first live participant is shown
        if log["lit"] and min(green) < 20:  # from then on never dark, through both switches
            log["dark"].append((state.frame, green, fo.active))
        if state.frame == 3:
            log["first"] = send(2.0)
        elif "first" in log and "stopped" not in log and log["first"].poll() is not None:
            log["stopped"] = float(log["first"].stdout.read().split()[0])
        elif "stopped" in log and "fallback" not in log and fo.active == "fallback":
            log["fallback"] = now - log["stopped"]
            log["second"], log["resumed"] = send(3.0), time.time()
        elif "fallback" in log and "live" not in log and fo.active == "live":
            log["live"] = now - log["resumed"]
            return True
        return state.frame > 3000

    try:
        run_venue_show(venue, vsync=False, on_frame=look, perform=session)
    finally:
        for key in ("first", "second"):
            if key in log:
                log[key].wait(timeout=10)
    assert log["fallback"] <= venue_failover_bound(session), log
    assert log["live"] <= 2.0, log
    assert not log["dark"], log["dark"][:5]
    events = [json.loads(line)["event"] for line in (tmp_path / "state.log").read_text().splitlines()
              if '"failover"' in line]
    assert any("fallback" in e for e in events) and any("live" in e for e in events)


def venue_failover_bound(session) -> float:
    """The issue's bound: stale_after + 1 s after the last live sample."""
    return session.config.failover.stale_after + 1.0


def test_perform_restarts_a_killed_show_with_the_same_cue_and_parameters(display, tmp_path):
    import socket

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    path = venue_text(tmp_path, port)
    state = tmp_path / "show.state.json"
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_symphony.py"), "perform", str(path), "--state",
                             str(state), "--no-vsync"], cwd=ROOT, env={**os.environ, "DISPLAY": display},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    client = Client(port)
    try:
        deadline = time.monotonic() + 180
        while not state.exists() or read_state(state).get("frame", 0) < 5:
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.1)
        client.send("/symphony/cue/go", "warm")
        client.send("/symphony/master", 0.6)
        client.send("/symphony/param/soft", 0.75)
        while read_state(state).get("master") != pytest.approx(0.6) or read_state(state)["params"][
                "soft"] != pytest.approx(0.75):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)  # the glide of cue "warm" (0.3 s) is over
        log_file = state.with_suffix(".log")
        while "standby ready" not in log_file.read_text():  # the warm standby waits to take over
            assert time.monotonic() < deadline, "no standby"
            time.sleep(0.1)
        before = read_state(state)
        deadline = time.monotonic() + 60
        killed = time.monotonic()
        os.kill(before["pid"], signal.SIGKILL)
        while True:
            after = read_state(state)
            if after["pid"] != before["pid"] and after["frame"] >= 1:
                break
            assert time.monotonic() < deadline, "no new show"
            time.sleep(0.02)
        restart = time.monotonic() - killed
        for key in ("cue", "cue_name", "master", "blackout", "freeze", "scene"):
            assert after[key] == before[key], key
        assert after["params"] == pytest.approx(before["params"])
        assert {k: (v["position"], v["fullscreen"]) for k, v in after["outputs"].items()} == {
            k: (v["position"], v["fullscreen"]) for k, v in before["outputs"].items()}
        # the new show obeys the control port too
        deadline = time.monotonic() + 30
        while read_state(state)["master"] != pytest.approx(0.4):  # UDP: a fader sends again
            assert time.monotonic() < deadline, "the new show does not hear OSC"
            client.send("/symphony/master", 0.4)
            time.sleep(0.5)
    finally:
        client.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    log = [json.loads(line) for line in state.with_suffix(".log").read_text().splitlines()]
    assert any(e["what"] == "crash" and e["returncode"] == -signal.SIGKILL for e in log)
    assert any(e["what"] == "start" and e["resumed"] for e in log)
    print(f"restart after SIGKILL: {restart:.2f} s")


def test_console_keys_steer_the_show_and_esc_needs_a_second_press(display, tmp_path):
    venue = load_venue(venue_text(tmp_path))
    session = PerformSession(venue, tmp_path / "state.json", resume=False)
    seen = {}

    def press(handle, key):
        session.console._key(handle, key, 0, glfw.PRESS, 0)  # as GLFW calls it

    def look(state):
        handle = session.console.handle
        if state.frame == 3:
            press(handle, glfw.KEY_RIGHT)  # next cue: the first
            press(handle, glfw.KEY_B)  # blackout
            press(handle, glfw.KEY_Z)  # freeze
            press(handle, glfw.KEY_DOWN)  # master -10 %
            press(handle, glfw.KEY_O)  # force failover
            state.outputs[0]._key(state.outputs[0].handle, glfw.KEY_ESCAPE, 0, glfw.PRESS, 0)
        elif state.frame == 6:
            op = session.dispatcher.operator
            seen["after"] = (session.dispatcher.cue, op.blackout, op.freeze, op.master,
                             session.failover.forced)
            seen["still_running"] = not session.quit_requested
            press(handle, glfw.KEY_ESCAPE)  # the second Esc within 2 s: the show ends
        return state.frame > 200

    drawn = run_venue_show(venue, vsync=False, on_frame=look, perform=session)
    assert seen["after"] == (0, True, True, pytest.approx(0.9), True)
    assert seen["still_running"] and drawn < 10
