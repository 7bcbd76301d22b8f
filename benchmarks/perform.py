"""Perform-mode figures, each beside a baseline measured in the same run (needs an X display).

    DISPLAY=:0 python benchmarks/perform.py --json

- osc_latency: a real OSC client process sends `/symphony/param/glow` (alternating 0 and 1)
  100 times; latency is send → the first output frame whose pixels show the new value (read
  back before the swap). Baseline: the show's frame period in the same run (the floor).
- flood: the frame period while a client floods the control port with garbage, against the
  same show without the flood.
- failover: a real OSC data sender stops: last live sample → fallback on (baseline: the
  configured stale_after); it starts again: first new sample → live on.
- restart: `symphony perform` with its child SIGKILLed: kill → the new child's first frame
  (from the show log), against the cold start of the first child (start → first frame).
- hud: per-frame cost of the single-window HUD at 1280x720 with a status line changing every
  frame, against the previous HUD (a full-window Pillow image each time the text changed),
  whose code is read from git (commit 022bb88).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

SCENE = ROOT / "tests" / "scenes" / "perform_panel.py"
CLIENT = ROOT / "tests" / "osc_control_client.py"


def free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def venue_file(folder: Path, control_port: int = 0, source: str = "synthetic:participants=3") -> Path:
    path = folder / "bench.toml"
    path.write_text(f"""[show]
scene = "{SCENE}"
source = "{source}"
[[output]]
name = "a"
size = [320, 180]
[[output]]
name = "b"
size = [320, 180]
[console]
size = [480, 300]
[control]
osc = "127.0.0.1:{control_port}"
fade = 0.0
[[cue]]
name = "one"
[failover]
stale_after = 1.0
fallback = "synthetic:participants=2"
""")
    return path


def client(port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(CLIENT), str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)


def send(proc: subprocess.Popen, line: str) -> str:
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    return proc.stdout.readline()


def osc_latency(folder: Path, messages: int) -> dict:
    from engine.perform.session import PerformSession
    from engine.venue import load_venue
    from engine.venue.show import run_venue_show

    venue = load_venue(venue_file(folder))
    session = PerformSession(venue, resume=False)
    c = client(session.control.port)
    st = {"sent": None, "value": 0.0, "lat": [], "frames": [], "flood": [], "phase": "latency"}

    def look(state):
        now = time.time()
        st["frames"].append(time.perf_counter())
        if state.frame < 20:
            return None
        red = state.pixels("a")[90, 160, 0]
        if st["phase"] == "latency":
            if st["sent"] is not None and (red > 200) == (st["value"] > 0.5):
                st["lat"].append(now - st["sent"])
                st["sent"] = None
            elif st["sent"] is None:
                if len(st["lat"]) == messages:
                    st["phase"], st["mark"] = "flood", len(st["frames"])
                    c.stdin.write("flood 4\n")
                    c.stdin.flush()
                    st["flood_start"] = time.monotonic()
                    return None
                st["value"] = 1.0 - st["value"]
                st["sent"] = float(send(c, f"/symphony/param/glow {st['value']}").split()[1])
        elif time.monotonic() - st["flood_start"] > 4.0:
            st["flood_end"] = len(st["frames"])
            return True
        return None

    try:
        run_venue_show(venue, vsync=False, on_frame=look, perform=session)
    finally:
        c.stdin.close()
        c.wait(timeout=30)
    periods = np.diff(st["frames"]) * 1000
    calm, flood = periods[20:st["mark"] - 1], periods[st["mark"]:st["flood_end"] - 1]
    lat = np.array(st["lat"]) * 1000
    return {"osc_latency_ms_median": float(np.median(lat)), "osc_latency_ms_worst": float(lat.max()),
            "osc_messages": len(lat), "baseline_frame_ms_median": float(np.median(calm)),
            "flood_frame_ms_median": float(np.median(flood)),
            "flood_frame_ms_p95": float(np.percentile(flood, 95)),
            "baseline_no_flood_frame_ms_p95": float(np.percentile(calm, 95)),
            "flood_refused": dict(session.control.counts)}


SENDER = """
import sys, time
from pythonosc.udp_client import SimpleUDPClient
c = SimpleUDPClient("127.0.0.1", int(sys.argv[1]))
first = None
end = time.time() + float(sys.argv[2])
while time.time() < end:
    c.send_message("/alcove/a1/p/live1/heart_rate", 70.0)
    first = first or time.time()
    time.sleep(0.02)
print(f"{first:.6f} {time.time():.6f}", flush=True)
"""


def failover(folder: Path) -> dict:
    from engine.perform.session import PerformSession
    from engine.venue import load_venue
    from engine.venue.show import run_venue_show

    data = free_port()
    venue = load_venue(venue_file(folder, source=f"osc://127.0.0.1:{data}"))
    session = PerformSession(venue, resume=False)
    st: dict = {}

    def sender(seconds: float) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", SENDER, str(data), str(seconds)],
                                stdout=subprocess.PIPE, text=True)

    def look(state):
        fo, now = session.failover, time.time()
        if state.frame == 3:
            st["a"] = sender(2.0)
        elif "a" in st and "stop" not in st and st["a"].poll() is not None:
            st["stop"] = float(st["a"].stdout.read().split()[1])
        elif "stop" in st and "to_fallback" not in st and fo.active == "fallback":
            st["to_fallback"] = now - st["stop"]
            st["b"] = sender(3.0)
        elif "to_fallback" in st and "to_live" not in st and fo.active == "live":
            st["live_at"] = now
            return True
        return state.frame > 5000

    run_venue_show(venue, vsync=False, on_frame=look, perform=session)
    first = float(st["b"].stdout.read().split()[0])
    session.close()
    return {"failover_switch_s": st["to_fallback"], "baseline_stale_after_s": 1.0,
            "failover_back_s": st["live_at"] - first}


def restart(folder: Path, kills: int) -> dict:
    state = folder / "r.state.json"
    log = state.with_suffix(".log")
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_symphony.py"), "perform",
                             str(venue_file(folder, free_port())), "--state", str(state), "--no-vsync"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def events() -> list[dict]:
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    times = []
    try:
        for _ in range(kills):
            deadline = time.monotonic() + 180
            while True:  # a child drawing and a warm standby waiting
                ev = events()
                drawing = [e for e in ev if e["what"] == "drawing"]
                ready = [e for e in ev if e["what"] == "standby ready"]
                if drawing and len(ready) > len(times) and len(drawing) == len(times) + 1:
                    break
                assert time.monotonic() < deadline
                time.sleep(0.1)
            pid = drawing[-1]["pid"]
            killed = time.time()
            os.kill(pid, signal.SIGKILL)
            while not [e for e in events() if e["what"] == "drawing" and e["pid"] != pid
                       and e["unix"] > killed]:
                time.sleep(0.02)
            new = [e for e in events() if e["what"] == "drawing" and e["unix"] > killed][0]
            times.append(new["unix"] - killed)
            time.sleep(2.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    ev = events()
    cold = ([e for e in ev if e["what"] == "drawing"][0]["unix"] -
            [e for e in ev if e["what"] == "child start"][0]["unix"])
    return {"restart_after_sigkill_s": times, "restart_s_median": statistics.median(times),
            "baseline_cold_start_s": cold}


HUD = """
import importlib.util, json, sys, time
import numpy as np
from engine.render import headless_context
from engine.render.shaders import ShaderCache
spec = importlib.util.spec_from_file_location("hud_impl", sys.argv[1])
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
ctx = headless_context()
hud = mod.Hud(ctx, ShaderCache(ctx))
tex = ctx.texture((1280, 720), 4); fbo = ctx.framebuffer([tex]); fbo.viewport = (0, 0, 1280, 720)
times = []
for i in range(240):
    t0 = time.perf_counter()
    hud.draw(fbo, f"Symphony | {16 + i % 9}.{i % 10} ms ({60 - i % 5} fps) | 4 present", [])
    ctx.finish()
    times.append(time.perf_counter() - t0)
print(json.dumps(1000 * float(np.median(times[10:]))))
"""


def hud(folder: Path) -> dict:
    old = folder / "hud_old.py"
    old.write_text(subprocess.run(["git", "show", "022bb88:engine/hud.py"], cwd=ROOT, capture_output=True,
                                  text=True, check=True).stdout)
    out = {}
    for name, path in (("hud_ms_per_frame", ROOT / "engine" / "hud.py"),
                       ("baseline_old_hud_ms_per_frame", old)):
        res = subprocess.run([sys.executable, "-c", HUD, str(path)], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
        out[name] = json.loads(res.stdout)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--messages", type=int, default=100)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--only", choices=("osc", "failover", "restart", "hud"))
    args = ap.parse_args()
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="symphony-perform-bench-") as tmp:
        folder = Path(tmp)
        for name, fn in (("hud", lambda: hud(folder)),
                         ("osc", lambda: osc_latency(folder, args.messages)),
                         ("failover", lambda: failover(folder)),
                         ("restart", lambda: restart(folder, args.kills))):
            if args.only in (None, name):
                result.update(fn())
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
