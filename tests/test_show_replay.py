"""A recorded show replays frame for frame: the ticks the live clock gave, the chunks each frame
consumed (cut where they were cut), operator actions and the scene code that ran."""

from __future__ import annotations

import json

import numpy as np
import pytest
import pyxdf

from engine.clock import RealtimeClock
from engine.recording.recorder import Recorder
from engine.recording.show_replay import apply_actions, load_show, replay_frames
from engine.recording.show_streams import ShowStreams
from engine.render import Renderer, headless_context
from engine.runtime import Show
from engine.scene import create_scene, resolve_scene_path
from engine.sources import SourceError, open_source

SIZE = (64, 48)
SCENE = "chorus_alcove"


class JitteryNow:
    """A wall clock whose frames come irregularly, as a live show's do (seeded)."""

    def __init__(self) -> None:
        self.t = 100.0
        self.rng = np.random.default_rng(7)

    def __call__(self) -> float:
        self.t += float(self.rng.uniform(0.008, 0.06))
        return self.t


def live_show(path, frames: int = 60) -> tuple[list[np.ndarray], str, float]:
    """A live-style show (real-time clock, guarded stages, glitchy source), recorded; returns
    the frames it drew and the parameter the operator moved."""
    scene = create_scene(SCENE, seed=5)
    name, spec = next(iter(type(scene).params().items()))
    value = spec.high
    drawn = []
    ctx = headless_context()
    rec = Recorder(path, "synthetic")
    src = open_source("synthetic:glitch=0.3", seed=5)
    streams = ShowStreams(rec, {"seed": 5, "size": list(SIZE), "layout": "flat"}, source=src)
    code = resolve_scene_path(SCENE).read_text()
    streams.scene(0, 0.0, resolve_scene_path(SCENE), code)
    try:
        renderer = Renderer(ctx, SIZE)
        with src:
            show = Show(scene, src, RealtimeClock(now=JitteryNow()), live=True)
            show.taps.append(streams.write)
            for i in range(frames):
                if i == 25:  # the operator pushes a fader
                    action = {"kind": "param", "name": name, "value": value}
                    streams.action(i, show.last_frame.t, **action)
                    apply_actions(show, [action])
                frame = show.advance()
                streams.tick(frame)
                renderer.render(show.scene, flip_y=True)
                drawn.append(renderer.read_into(renderer.new_frame_buffer()))
    finally:
        rec.close()
        ctx.release()
    return drawn, name, value


def test_a_recorded_show_replays_pixel_for_pixel(tmp_path):
    path = tmp_path / "show.xdf"
    drawn, name, value = live_show(path)
    rec = load_show(path)
    assert rec.frames == len(drawn)
    assert rec.meta["seed"] == 5 and rec.actions[25][0]["name"] == name
    dts = rec.ticks[:, 2]
    assert dts.std() > 0.005, "the live clock's frames were irregular"
    assert np.sum(rec.chunk_rows[:, 2]) > 0
    assert rec.ticks[-1, 4] > 0, "the source's rejections (frame.glitch) are recorded"
    frames = iter(np.empty((len(drawn), SIZE[1], SIZE[0], 4), np.uint8))
    replayed = list(replay_frames(rec, SCENE, 0, SIZE, None, lambda: next(frames)))
    assert len(replayed) == len(drawn)
    for i, (a, b) in enumerate(zip(replayed, drawn, strict=True)):
        assert np.array_equal(a, b), f"frame {i} differs"
    # without the operator's action the replay would differ from frame 25 on
    rec.actions.clear()
    frames = iter(np.empty((len(drawn), SIZE[1], SIZE[0], 4), np.uint8))
    other = list(replay_frames(rec, SCENE, 0, SIZE, None, lambda: next(frames)))
    assert all(np.array_equal(a, b) for a, b in zip(other[:25], drawn[:25], strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(other[25:], drawn[25:], strict=True))


def test_pyxdf_still_loads_a_show_recording_and_sees_the_show_streams(tmp_path):
    path = tmp_path / "show.xdf"
    live_show(path, frames=10)
    streams, _ = pyxdf.load_xdf(str(path))
    names = {s["info"]["name"][0] for s in streams}
    assert {"show/ticks", "show/chunks", "show/actions", "show/scenes", "markers"} <= names
    scenes = next(s for s in streams if s["info"]["name"][0] == "show/scenes")
    assert "class" in json.loads(scenes["time_series"][0][0])["code"]


def test_a_data_only_recording_says_what_to_do(tmp_path):
    rec = Recorder(tmp_path / "data.xdf", "synthetic")
    with open_source("synthetic", seed=1) as src:
        rec.write(*src.poll(0.5))
    rec.close()
    with pytest.raises(SourceError, match="--timing fixed"):
        load_show(tmp_path / "data.xdf")


def test_render_timing_show_writes_the_show_to_a_lossless_file(tmp_path):
    import av

    from engine.offline import render_video

    path = tmp_path / "show.xdf"
    drawn, _, _ = live_show(path, frames=40)
    out = tmp_path / "film.mkv"
    render_video(SCENE, out, None, size=SIZE, source=f"replay:{path}", timing="show", progress=False)
    with av.open(str(out)) as c:
        got = [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]
    assert len(got) == 40
    assert all(np.array_equal(a, b[..., :3]) for a, b in zip(got, drawn, strict=True))
    cut = tmp_path / "cut.mkv"
    t = load_show(path).ticks[:, 1]
    render_video(SCENE, cut, t[30] - t[10], size=SIZE, source=f"replay:{path}", timing="show",
                 start=t[10], progress=False)
    with av.open(str(cut)) as c:
        part = [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]
    assert len(part) == 20
    assert all(np.array_equal(a, b[..., :3]) for a, b in zip(part, drawn[10:30], strict=True))


def test_scene_reloads_and_a_rollback_replay_as_they_ran(tmp_path):
    """A live edit mid-show swaps the scene (state carried over); a later broken edit fails its
    first update and the previous scene comes back. The replay runs the recorded code at the
    same frames and brings back the same scene object, so every frame matches."""
    import os

    from engine.reload import SceneReloader

    scene_file = tmp_path / "pulse.py"
    original = (resolve_scene_path("tests/scenes/trail_pulse.py")).read_text()
    scene_file.write_text(original)
    path = tmp_path / "show.xdf"
    rec = Recorder(path, "synthetic")
    src = open_source("synthetic", seed=2)
    streams = ShowStreams(rec, {"seed": 2, "size": list(SIZE), "layout": "flat"}, source=src)
    streams.scene(0, 0.0, scene_file, original)
    reloader = SceneReloader(str(scene_file), seed=2, interval=0.0)
    edits = {12: original.replace("(0.3 + 0.7 * p.pulse, 0.5, 1.0)", "(1.0, 0.3 + 0.7 * p.pulse, 0.2)"),
             24: original.replace("def update(self, frame) -> None:\n",
                                  "def update(self, frame) -> None:\n        raise RuntimeError('typo')\n")}
    drawn, ctx = [], headless_context()
    try:
        renderer = Renderer(ctx, SIZE)
        with src:
            clock = RealtimeClock(now=JitteryNow())
            show = Show(create_scene(str(scene_file), seed=2), src, clock, live=True)
            show.taps.append(streams.write)
            for i in range(36):
                if i in edits:
                    scene_file.write_text(edits[i])
                    os.utime(scene_file, ns=(i * 10**9, i * 10**9))
                code = scene_file.read_text()
                if reloader.poll(show):
                    streams.scene(i, show.last_frame.t, scene_file, code)
                    frame = show.advance()
                    before = show.scene
                    reloader.after_frame(show)
                    if show.scene is not before:
                        streams.rollback(i, frame.t)
                else:
                    frame = show.advance()
                streams.tick(frame)
                renderer.render(show.scene, flip_y=True)
                drawn.append(renderer.read_into(renderer.new_frame_buffer()))
    finally:
        rec.close()
        ctx.release()
    assert reloader.reloads == 2 and "kept the previous version" in (reloader.error or "")
    replay = load_show(path)
    assert sorted(replay.scenes) == [0, 12, 24] and replay.scenes[24][1] == {"rollback": "probation"}
    frames = iter(np.empty((len(drawn), SIZE[1], SIZE[0], 4), np.uint8))
    got = list(replay_frames(replay, "tests/scenes/trail_pulse.py", 0, SIZE, None, lambda: next(frames)))
    for i, (a, b) in enumerate(zip(got, drawn, strict=True)):
        assert np.array_equal(a, b), f"frame {i} differs"
    assert not np.array_equal(drawn[11][..., :3].mean((0, 1)), drawn[14][..., :3].mean((0, 1)))
    from engine.recording.inspect import format_summary, inspect_file

    summary = inspect_file(path)
    assert summary["show"]["frames"] == 36 and summary["show"]["reloads"] == 2
    assert summary["show"]["rollbacks"] == 1 and "scene reloads 2 (rolled back 1)" in format_summary(summary)
    assert not summary["skipped"], "the show streams are not mistaken for data"
