"""`show --record` under a real X server: 90 frames with an operator's fader move and a live
scene edit mid-way; `render --timing show` gives back every frame the audience saw, exactly."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from engine.live import run_show
from engine.offline import render_video
from engine.recording.inspect import inspect_file
from engine.recording.show_record import next_frame
from engine.recording.show_replay import apply_actions
from engine.scene import resolve_scene_path

SIZE = (96, 64)
pytestmark = [pytest.mark.window, pytest.mark.own_process]


def test_a_recorded_live_show_renders_back_frame_for_frame(tmp_path, x_display, monkeypatch):
    monkeypatch.setenv("DISPLAY", x_display)
    scene_file = tmp_path / "pulse.py"
    code = resolve_scene_path("tests/scenes/trail_pulse.py").read_text()
    code = code.replace("from engine import ", "from engine import Param, ")  # a fader that glides
    code = code.replace("    max_participants = 4\n",
                        "    max_participants = 4\n    glow = Param(0.3, 0.0, 1.0, smoothing=0.3)\n")
    colour = "(self.glow + 0.7 * p.pulse, 0.5, 1.0)"
    scene_file.write_text(code.replace("(0.3 + 0.7 * p.pulse, 0.5, 1.0)", colour))
    record = tmp_path / "show.xdf"
    seen: list[np.ndarray] = []

    def on_frame(state) -> None:
        seen.append(state.pixels()[..., :3].copy())
        if state.frame == 30:  # the operator moves a fader, as a key or OSC would
            name, spec = next(iter(type(state.show.scene).params().items()))
            action = {"kind": "param", "name": name, "value": spec.high}
            state.streams.action(*next_frame(state.show), **action)
            apply_actions(state.show, [action])
        if state.frame == 45:  # the artist saves an edit; the reloader picks it up next frame
            code = scene_file.read_text().replace(colour, "(1.0, 0.4, self.glow)")
            scene_file.write_text(code)
            os.utime(scene_file, ns=(10**18, 10**18))
            state.reloader._next_check = 0.0

    drawn = run_show(str(scene_file), "synthetic:glitch=0.2", SIZE, seed=4, frames=90, vsync=False,
                     record=record, on_frame=on_frame, hud=False)
    assert drawn == 90 and len(seen) == 90
    show = inspect_file(record)["show"]
    assert show["frames"] == 90 and show["reloads"] == 1 and show["actions"].get("param") == 1
    frames = tmp_path / "frames"
    frames.mkdir()
    render_video(str(scene_file), frames / "%05d.png", None, size=SIZE, source=f"replay:{record}",
                 timing="show", progress=False)
    pngs = sorted(frames.glob("*.png"))
    assert len(pngs) == 90
    differ = [i for i, (p, live) in enumerate(zip(pngs, seen, strict=True))
              if not np.array_equal(np.asarray(Image.open(p).convert("RGB")), live)]
    assert not differ, f"frames {differ[:10]} differ from what the show drew"
    assert not np.array_equal(seen[40], seen[60]), "the edit and the fader changed the picture"
