"""Drives a real `show` window through edits of a scene file; prints what it saw as JSON.

Run by tests/test_live_reload.py in its own process (a GLX window does not share a process
with the EGL contexts of the other tests), with DISPLAY set to an X server.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

SCENE = '''
"""A test scene: one tinted bundle per participant."""
from engine import Param, Scene, StrandLayer

class Tint(Scene):
    title = "tint"
    red = Param(1.0, 0.0, 1.0)
    blue = Param(0.0, 0.0, 1.0)

    def setup(self):
        self.strands = self.add(StrandLayer(8, 6, 24, width=40.0, intensity=3.0, seed=1))
        self.post.bloom_strength = 0.0
        self.red, self.blue = {red}, {blue}

    def update(self, frame):
        {update_extra}
        for p in frame.participants:
            self.strands.color[p.slot % 8] = (self.red, 0.05, self.blue)
'''


def write(path, red: float, blue: float, update_extra: str = "pass", broken: bool = False) -> None:
    text = SCENE.format(red=red, blue=blue, update_extra=update_extra)
    if broken:
        text = text.replace("def update(self, frame):", "def update(self, frame)")  # SyntaxError
    path.write_text(text)
    later = time.time() + 1.0  # make sure the watcher sees a new mtime
    os.utime(path, (later, later))


def middle(pixels: np.ndarray) -> np.ndarray:
    h = pixels.shape[0]  # below the status bar, above the error strip
    return pixels[h // 5: h // 2, :, :3].astype(np.float32).mean(axis=(0, 1))



def main(tmp: Path) -> dict:
    scene = tmp / "tint.py"
    write(scene, red=1.0, blue=0.0)
    from engine.live import run_show

    seen: dict[str, object] = {}
    steps = iter(["red", "blue", "broken", "update_error", "green"])
    state = {"step": next(steps), "since": 0, "reloads": 0}

    def on_frame(live) -> bool:
        state["since"] += 1
        r = live.reloader
        if state["since"] < 8:  # let a few frames settle after each change
            return False
        step = state["step"]
        if step == "red":
            seen["red"] = middle(live.pixels())
            write(scene, red=0.0, blue=1.0)
        elif step == "blue":
            if r.reloads < 1:
                return False
            seen["blue"] = middle(live.pixels())
            write(scene, red=0.0, blue=1.0, broken=True)
        elif step == "broken":
            if r.error is None:
                return False
            seen["broken_error"] = r.error
            seen["broken"] = middle(live.pixels())
            seen["hud"] = live.pixels()
            write(scene, red=1.0, blue=1.0, update_extra="raise RuntimeError('boom')")
        elif step == "update_error":
            if "boom" not in (r.error or ""):
                return False
            seen["update_error"] = r.error
            seen["after_update_error"] = middle(live.pixels())
            write(scene, red=0.0, blue=0.0)
        elif step == "green":
            if r.reloads < 3 or r.error is not None:
                return False
            seen["recovered"] = middle(live.pixels())
            seen["title"] = live.show.scene.title
            return True
        state["step"], state["since"] = next(steps, "done"), 0
        return False

    drawn = run_show(str(scene), size=(160, 240), vsync=False, seconds=90, on_frame=on_frame)
    seen["drawn"] = drawn
    strip = seen.pop("hud")[-30:, :, :3].astype(int)  # the error strip at the bottom
    seen["error_on_screen"] = bool(((strip[..., 0] > 150) & (strip[..., 1] < 140)).any())
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in seen.items()}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
