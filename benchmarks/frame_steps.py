"""Step-by-step frame timing for benchmarks/frame.py: simulate, upload, draw, post (timed inside
the real frame) and present (read back offline, or a window's swap under Xvfb)."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from engine.render import Renderer
from engine.runtime import Show


class _Timed:
    """A post pass (bloom, composite) timed inside the real frame: GL work queued before it is
    finished first, so the time is the pass's own (the extra sync points cost little)."""

    def __init__(self, inner, ctx, times: list[float]) -> None:
        self.inner, self.ctx, self.times = inner, ctx, times

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def run(self, *args, **kwargs):
        self.ctx.finish()
        t = time.perf_counter()
        out = self.inner.run(*args, **kwargs)
        self.ctx.finish()
        self.times[-1] += time.perf_counter() - t
        return out


def time_post(renderer: Renderer, times: list[float]) -> None:
    """Route the renderer's bloom and composite passes through timers adding into times[-1]."""
    if not isinstance(renderer.composite, _Timed):
        renderer.composite = _Timed(renderer.composite, renderer.ctx, times)
    for vb in renderer._views.values():
        if not isinstance(vb.bloom, _Timed):
            vb.bloom = _Timed(vb.bloom, renderer.ctx, times)


STEPS = ("simulate", "upload", "draw", "post", "present")


def time_frame(show: Show, scene, renderer: Renderer, present, post_times: list[float]) -> dict[str, float]:
    """One frame, step by step (ms): simulate, upload, draw (layers, CPU paint, trails; the
    render minus post), post (bloom + composite), present (read back, or a window's swap)."""
    ctx = renderer.ctx
    t0 = time.perf_counter()
    show.advance()
    t1 = time.perf_counter()
    renderer.upload(scene)
    ctx.finish()
    t2 = time.perf_counter()
    post_times.append(0.0)
    present.render(renderer, scene)
    ctx.finish()
    t3 = time.perf_counter()
    present.show()
    t4 = time.perf_counter()
    post = post_times[-1]
    return {"simulate": (t1 - t0) * 1e3, "upload": (t2 - t1) * 1e3, "draw": (t3 - t2 - post) * 1e3,
            "post": post * 1e3, "present": (t4 - t3) * 1e3}


class ReadBack:
    """Offline: the offscreen output, read back into a preallocated buffer."""

    name = "read_back"

    def __init__(self, renderer: Renderer) -> None:
        self.renderer, self.buf = renderer, renderer.new_frame_buffer()

    def render(self, renderer: Renderer, scene) -> None:
        renderer.layout.render(renderer, scene, renderer.output_fbo, renderer.size, True)

    def show(self) -> None:
        self.renderer.read_into(self.buf)


def summary(frames: list[dict[str, float]], present: str) -> dict:
    totals = [sum(f.values()) for f in frames]
    median = statistics.median(totals)
    steps = {f"{k if k != 'present' else present}_ms": statistics.median(f[k] for f in frames)
             for k in STEPS}
    return {"ms_per_frame": median, "fps": 1000.0 / median, "mean_ms_per_frame": statistics.fmean(totals),
            **steps}


class WindowPresent:
    """The live show's path: the frame drawn into a window's default framebuffer, then swapped
    (vsync off: the swap's own cost, not a wait for the display)."""

    name = "swap"

    def __init__(self, window) -> None:
        self.window = window

    def render(self, renderer: Renderer, scene) -> None:
        screen = self.window.screen()
        renderer.layout.render(renderer, scene, screen, self.window.framebuffer_size, False)

    def show(self) -> None:
        self.window.swap()


def start_xvfb(size: tuple[int, int]):
    """An Xvfb display of the frame's size when none is set (as the tests start one)."""
    import shutil
    import subprocess
    import tempfile

    if os.environ.get("DISPLAY"):
        return None
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SystemExit("--window needs DISPLAY or Xvfb (apt-get install xvfb)")
    n = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    proc = subprocess.Popen([xvfb, f":{n}", "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    deadline = time.monotonic() + 15
    while not Path(f"/tmp/.X11-unix/X{n}").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("Xvfb did not start")
        time.sleep(0.05)
    os.environ["DISPLAY"] = f":{n}"
    return proc
