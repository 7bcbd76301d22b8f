"""Perform mode's parts without windows: the venue sections, OSC addresses as actions, the
dispatch, fades, the state file, and the fixes of what an operator hit (HUD cost, slow frames
in slow motion, control messages on the data port, errors that outstay their fix, a reloaded
scene that starts failing, Esc). Real sockets, real processes, real files."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from engine import runtime
from engine.clock import FixedClock, RealtimeClock
from engine.perform.actions import Dispatcher, ShowLog
from engine.perform.config import parse_perform
from engine.perform.control_child import to_action
from engine.perform.keys import QuitGuard
from engine.perform.state import OperatorState, operator_state, read_state, write_state
from engine.reload import SceneReloader
from engine.runtime import Show
from engine.scene import create_scene, param_state
from engine.sources import open_source
from engine.sources.oscwire import parse_packet
from engine.venue.config import VenueError, parse_venue
from tests.conftest import ROOT

SCENE = str(ROOT / "tests" / "scenes" / "perform_panel.py")
OUTPUT = {"output": [{"name": "a"}]}


def venue(**sections):
    return parse_venue({**OUTPUT, **sections})


def osc(address: str, *args):
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return parse_packet(b.build().dgram)[0]


def test_perform_sections_are_checked_with_one_line_errors(tmp_path):
    config = parse_perform(venue(console={"monitor": 1, "size": [640, 400]},
                                 control={"osc": "127.0.0.1:9200"},
                                 cue=[{"name": "a", "params": {"glow": 0.5}, "fade": 2},
                                      {"name": "b", "scene": "symphony"}],
                                 failover={"stale_after": 2, "fallback": "synthetic:participants=2"}))
    assert config.console.monitor == 1 and config.control.port == 9200
    assert config.control.allow == ("127.0.0.1",)
    assert [c.name for c in config.cues] == ["a", "b"] and config.cues[0].fade == 2.0
    assert config.failover.stale_after == 2.0
    for sections, where in (({"control": {"osc": "0.0.0.0:9200"}}, "control.allow"),
                            ({"control": {"osc": "nowhere"}}, "control.osc"),
                            ({"cue": [{"name": "x"}, {"name": "x"}]}, "cue[1].name"),
                            ({"cue": [{"preset": "missing.json"}]}, "cue[0].preset"),
                            ({"failover": {"stale_after": -1}}, "failover.stale_after"),
                            ({"console": {"colour": 1}}, "console.colour")):
        with pytest.raises(VenueError, match=rf"^venue: {where.replace('[', '.').replace(']', '.')}"):
            parse_perform(venue(**sections))


def test_each_osc_address_becomes_one_action_or_a_counted_reason():
    assert to_action(osc("/symphony/cue/go", 2)) == ("cue", {"go": 2})
    assert to_action(osc("/symphony/cue/go", "finale")) == ("cue", {"go": "finale"})
    assert to_action(osc("/symphony/cue/next")) == ("cue_next", {})
    assert to_action(osc("/symphony/cue/prev")) == ("cue_prev", {})
    assert to_action(osc("/symphony/param/weave", 0.25)) == ("param", {"name": "weave", "value": 0.25})
    assert to_action(osc("/symphony/blackout", 1)) == ("blackout", {"on": True})
    assert to_action(osc("/symphony/freeze", 0)) == ("freeze", {"on": False})
    assert to_action(osc("/symphony/master", 0.5)) == ("master", {"value": 0.5})
    assert to_action(osc("/symphony/fade", 3.0)) == ("fade", {"value": 3.0})
    assert to_action(osc("/symphony/source/failover", 1)) == ("failover", {"on": True})
    assert to_action(osc("/symphony/master", "loud")) == "wrong_type"
    assert to_action(osc("/symphony/param/weave", float("nan"))) == "wrong_type"
    assert to_action(osc("/symphony/cue/go", 1.5)) == "wrong_type"
    assert to_action(osc("/symphony/volume", 1.0)) == "unknown_address"
    assert to_action(osc("/alcove/a/p/p1/eda", 1.0)) == "unknown_address"


def test_dispatch_clamps_refuses_logs_and_fades_by_frame_time(tmp_path):
    config = parse_perform(venue(cue=[{"name": "low", "params": {"glow": 0.0}, "fade": 1.0}]))
    scene = create_scene(SCENE)
    show = Show(scene, open_source("synthetic"), FixedClock(10.0))
    d = Dispatcher(config, show, ShowLog(tmp_path / "show.log"))
    assert d.dispatch("param", {"name": "glow", "value": 7.0}, origin="osc")
    assert param_state(scene, "glow").target == 1.0 and d.refused == {"out_of_range": 1}
    assert not d.dispatch("param", {"name": "nope", "value": 1.0})
    assert not d.dispatch("cue", {"go": 5}) and not d.dispatch("failover", {"on": True})
    assert d.refused == {"out_of_range": 1, "unknown_param": 1, "unknown_cue": 1, "no_failover": 1}
    assert d.dispatch("cue", {"go": "low"}) and d.dispatch("blackout", {"on": True, "fade": 0.5})
    op = operator_state(show)
    targets = []
    for _ in range(12):  # 0.1 s frames: the glide and the blackout follow frame time only
        op.advance(0.1, scene)
        targets.append(param_state(scene, "glow").target)
    assert targets[4] == pytest.approx(0.5) and targets[-1] == 0.0 and op.level == 0.0
    lines = [json.loads(line) for line in (tmp_path / "show.log").read_text().splitlines()]
    assert [e["what"] for e in lines] == ["param", "cue", "blackout"] and lines[0]["origin"] == "osc"


def test_state_file_is_replaced_atomically(tmp_path):
    path = tmp_path / "state.json"
    for frame in range(50):
        write_state(path, {"frame": frame})
        assert read_state(path) == {"frame": frame}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_esc_quits_only_when_pressed_twice_within_two_seconds():
    now = [0.0]
    guard = QuitGuard(lambda: now[0])
    assert not guard.press()
    now[0] = 2.5
    assert not guard.press()  # too late: armed again
    now[0] = 3.0
    assert guard.press()


def test_a_slow_live_show_follows_the_wall_clock_with_substeps(monkeypatch):
    t = [0.0]

    def now() -> float:
        t[0] += 0.21  # 4.8 fps
        return t[0]

    scene = create_scene(SCENE)
    steps = []
    monkeypatch.setattr(runtime, "step_scene",
                        lambda sc, dt, step=runtime.step_scene: (steps.append(dt), step(sc, dt)))
    show = Show(scene, open_source("synthetic"), RealtimeClock(now=now), live=True)
    for _ in range(11):
        show.advance()
    assert scene.time == pytest.approx(10 * 0.21 + 1 / 60)  # real time, not 0.48x
    assert max(steps) <= 0.05 + 1e-9


def test_errors_clear_on_the_first_clean_frame():
    from engine.live import _operator_errors

    scene = create_scene(SCENE)
    update = scene.update

    def flaky(frame):
        if 3 <= frame.index <= 5:
            raise RuntimeError("sensor math")
        update(frame)

    scene.update = flaky
    show = Show(scene, open_source("synthetic"), FixedClock(30.0), live=True)
    reloader = SceneReloader(SCENE)
    shown = []
    for _ in range(9):
        show.advance()
        shown.append(bool(_operator_errors(show, reloader, [])))
    assert shown == [False, False, False, True, True, True, False, False, False]


def test_a_reload_that_starts_failing_later_is_rolled_back(tmp_path):
    path = tmp_path / "panel.py"
    good = Path(SCENE).read_text()
    path.write_text(good)
    show = Show(create_scene(str(path)), open_source("synthetic"), FixedClock(30.0), live=True)
    reloader = SceneReloader(str(path), interval=0.0)
    for _ in range(3):
        show.advance()
    late = "        if frame.index > 8:\n            raise ValueError('late')\n"
    bad = good.replace("        present = ", late + "        present = ")
    path.write_text(bad.replace("tint = 0.3", "tint = 0.6"))
    later = time.time() + 2
    import os

    os.utime(path, (later, later))
    rolled = None
    for i in range(60):
        reloaded = reloader.poll(show)
        show.advance()
        if reloaded:
            reloader.after_frame(show)
            assert show.scene.tint == 0.6  # passed probation: its first frames were clean
        if reloader.watch(show):
            rolled = i
    assert rolled is not None and show.scene.tint == 0.3
    assert "rolled back to the last version that ran clean" in reloader.error


def test_control_messages_on_the_data_port_are_bad_address_not_glitches():
    src = open_source("osc://127.0.0.1:0")
    with src:
        show = Show(create_scene(SCENE), src, FixedClock(30.0), live=True)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        b = OscMessageBuilder("/symphony/blackout")
        b.add_arg(1)
        for _ in range(20):
            sock.sendto(b.build().dgram, ("127.0.0.1", src.bound_port))
        glitch = []
        deadline = time.monotonic() + 20
        while src.rejects.counts.get("bad_address", 0) < 20 and time.monotonic() < deadline:
            glitch.append(show.advance().glitch.level)
            time.sleep(0.01)
        glitch.append(show.advance().glitch.level)
    assert src.rejects.counts["bad_address"] == 20
    assert max(glitch) == 0.0 and src.rejects.glitches == 0


HUD_SCRIPT = """
import json, sys, time
from engine.hud import Hud
from engine.render import headless_context
from engine.render.shaders import ShaderCache
import numpy as np
ctx = headless_context()
clock = [0.0]
hud = Hud(ctx, ShaderCache(ctx), clock=lambda: clock[0])
tex = ctx.texture((1280, 720), 4)
fbo = ctx.framebuffer([tex])
fbo.viewport = (0, 0, 1280, 720)
times = []
for i in range(120):  # two seconds at 60 fps, the status text changing every frame
    clock[0] = i / 60
    t0 = time.perf_counter()
    hud.draw(fbo, f"frame {i}: {16.0 + i % 7:.1f} ms", ["scene.py:12 boom"] if i > 60 else [])
    ctx.finish()
    times.append(time.perf_counter() - t0)
px = np.frombuffer(fbo.read(components=4), np.uint8).reshape(720, 1280, 4)[::-1]
print(json.dumps({"rasterised": hud.rasterised, "median_ms": 1000 * float(np.median(times)),
                  "top": int(px[:20, :, 3].max()), "middle": int(px[200:500, :, 3].max()),
                  "bottom_red": int(px[-10:, :, 0].max())}))
"""


def test_the_hud_redraws_small_strips_a_few_times_a_second():
    res = subprocess.run([sys.executable, "-c", HUD_SCRIPT], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["rasterised"] <= 2 * 4 + 2 + 1  # status at 4 Hz over 2 s, and the one error strip
    assert out["top"] > 0 and out["middle"] == 0 and out["bottom_red"] > 0


def test_blackout_master_and_freeze_replay_from_a_show_recording(tmp_path):
    import numpy as np

    from engine.perform.dim import dim_into
    from engine.recording.recorder import Recorder
    from engine.recording.show_replay import apply_actions, load_show, replay_frames
    from engine.recording.show_streams import ShowStreams
    from engine.render import Renderer, headless_context

    size, path = (64, 48), tmp_path / "show.xdf"
    actions = {4: {"kind": "master", "value": 0.5}, 7: {"kind": "freeze", "on": True},
               10: {"kind": "freeze", "on": False}, 12: {"kind": "blackout", "on": True, "fade": 0.1}}
    rec = Recorder(path, "synthetic")
    src = open_source("synthetic", seed=2)
    streams = ShowStreams(rec, {"seed": 2, "size": list(size), "layout": "flat"}, source=src)
    streams.scene(0, 0.0, SCENE, Path(SCENE).read_text())
    ctx = headless_context()
    drawn, last = [], None
    try:
        renderer = Renderer(ctx, size)
        with src:
            show = Show(create_scene(SCENE, seed=2), src, FixedClock(30.0), live=True)
            show.taps.append(streams.write)
            for i in range(16):  # the venue loop's order: actions, fades, advance, draw, dim
                if i in actions:
                    streams.action(i, show.last_frame.t, **actions[i])
                    apply_actions(show, [actions[i]])
                op = operator_state(show)
                op.advance(show.last_frame.dt if show.last_frame else 0.0, show.scene)
                frame = show.advance()
                streams.tick(frame)
                if not (op.freeze and last is not None):
                    renderer.render(show.scene, flip_y=True)
                    last = renderer.read_into(renderer.new_frame_buffer())
                drawn.append(dim_into(last.copy(), op.gain))
    finally:
        rec.close()
        ctx.release()
    assert drawn[5][..., 2].mean() == pytest.approx(drawn[3][..., 2].mean() / 2, abs=1.5)
    assert np.array_equal(drawn[8], drawn[9]) and drawn[-1][..., :3].max() == 0
    buffers = iter(np.empty((16, size[1], size[0], 4), np.uint8))
    replayed = list(replay_frames(load_show(path), SCENE, 2, size, None, lambda: next(buffers)))
    for i, (a, b) in enumerate(zip(replayed, drawn, strict=True)):
        assert np.array_equal(a, b), f"frame {i} differs"


def test_operator_state_fades_are_linear_in_frame_time():
    op = OperatorState(fade=1.0)
    op.apply("blackout", {"on": True})
    for _ in range(5):
        op.advance(0.1)
    assert op.level == pytest.approx(0.5) and op.gain == pytest.approx(0.5)
    op.apply("master", {"value": 3.0})
    assert op.master == 1.0


def test_the_hud_counts_stale_participants_as_stale():
    from engine.data import Frame, Group
    from engine.live import _status

    show = Show(create_scene(SCENE), open_source("synthetic"), FixedClock(30.0))
    show.last_frame = Frame(10, 1.0, 0.03, [], [], Group(count=4, present=1))
    assert "1 present, 3 stale" in _status(show, 16.0)
    show.last_frame = Frame(11, 1.0, 0.03, [], [], Group(count=4, present=4))
    assert "4 present," in _status(show, 16.0) and "stale" not in _status(show, 16.0)


def test_the_example_venue_files_parse():
    from engine.venue import load_venue

    for path in sorted((ROOT / "assets" / "venues").glob("*.toml")):
        parse_perform(load_venue(path))
    config = parse_perform(load_venue(ROOT / "assets" / "venues" / "perform_show.toml"))
    assert config.console and config.control and len(config.cues) == 3 and config.failover
