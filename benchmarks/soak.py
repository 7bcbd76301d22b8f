"""Soak: a live-like show for M minutes, to show memory stays flat and frame times steady.

    python3 benchmarks/soak.py --minutes 30 --json [--out soak.json] [--size 640x360] [--fps 30]

The flagship scene (64 participant slots) in a live show (wall clock, every stage guarded)
fed by the synthetic Alcove with 64 participants and `glitch=0.2` (dropouts, bursts,
duplicates, reordering, garbage), where participants come and go: each one leaves for 15-45 s
at a time on a seeded schedule, so the show sees joins, stale participants and leaves all
along. After 30 warm-up frames (kernels load), every frame simulates, renders off-screen and
reads the image back (what a window's swap costs is the display's), then sleeps to the next
frame at `fps`, as a live show does.

Printed each minute: RSS, the minute's frame time median/p99/max (wall and CPU time of the
main thread: the host is shared, and CPU time shows what contention adds), and Python's
garbage-collector pauses (a full collection is a frame-time spike of its own), and the
host's load average (on a shared host, wall-clock stalls make the next frame's step longer). The baseline
is the run's own first minute, measured in the same run: RSS growth is counted from its end,
and the frame-time figures cover the minutes after it. The targets: RSS growth after the
first minute < 5 %, p99 frame <= 1.5 x median. `--out` is rewritten every minute, so a run
stopped early still leaves its figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.clock import RealtimeClock  # noqa: E402
from engine.render import Renderer, headless_context  # noqa: E402
from engine.runtime import Show  # noqa: E402
from engine.scene import load_scene_class  # noqa: E402
from engine.sources import Source, open_source  # noqa: E402

PARTICIPANTS = 64
WARMUP_FRAMES = 30
MAX_CATCH_UP = 1.0  # seconds of data the generator makes up per frame after a stall


class ComingAndGoing(Source):
    """The synthetic Alcove, with each participant away for 15-45 s at a time (seeded): their
    samples stop, the show marks them stale, then left, and they join again on return.

    Like a sensor network, and unlike the bare synthetic source, it never makes up a stall at
    once: the synthetic source generates every tick up to the show's time, so after the host
    starved the show for N seconds it would generate N seconds of 64 participants in one frame
    (seen: 14-27 s of CPU per frame, each frame a longer stall than the last). Here the
    generator advances at most `MAX_CATCH_UP` seconds per poll and skips the rest (counted,
    `skipped_s`), its times shifted to the show's clock."""

    kind = "soak"

    def __init__(self, seed: int, glitch: float) -> None:
        self.inner = open_source(f"synthetic:participants={PARTICIPANTS},glitch={glitch}", seed=seed)
        self.rejects = self.inner.rejects
        rng = np.random.default_rng(seed)
        self.period = rng.uniform(60.0, 180.0, PARTICIPANTS)  # seconds between absences
        self.away = rng.uniform(15.0, 45.0, PARTICIPANTS)
        self.phase = rng.uniform(0.0, 1.0, PARTICIPANTS) * self.period
        self.index = {pid: k for k, pid in enumerate(getattr(self.inner, "ids", []))}
        self.skipped_s = 0.0  # show time the generator skipped (stalls of the host)
        self._inner_now = 0.0

    def present(self, pid: str | None, now: float) -> bool:
        k = self.index.get(pid) if pid is not None else None
        return k is None or (now + self.phase[k]) % self.period[k] >= self.away[k]

    def start(self) -> None:
        self.inner.start()

    def stop(self) -> None:
        self.inner.stop()

    def poll(self, now: float):
        inner_now = min(now - self.skipped_s, self._inner_now + MAX_CATCH_UP)
        self.skipped_s = now - inner_now
        self._inner_now = inner_now
        chunks, events = self.inner.poll(inner_now)
        lag = self.skipped_s
        if lag:
            for c in chunks:
                c.t = c.t + lag  # a new array: the generator's intake keeps the old one
            events = [dataclasses.replace(e, t=e.t + lag) for e in events]
        return ([c for c in chunks if self.present(c.participant, now)],
                [e for e in events if self.present(e.participant, now)])


class GcPauses:
    """Python's collector pauses per generation (a full collection can stall a frame)."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._t = 0.0
        gc.callbacks.append(self._cb)

    def _cb(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.pauses[info["generation"]].append((time.perf_counter() - self._t) * 1000.0)

    def take(self) -> dict:
        out = {f"gen{g}": {"count": len(p), "max_ms": round(max(p), 2) if p else 0.0}
               for g, p in self.pauses.items()}
        for p in self.pauses.values():
            p.clear()
        return out


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def stats(ms: list[float]) -> dict:
    if not ms:
        return {}
    med = statistics.median(ms)
    p99 = float(np.percentile(ms, 99))
    return {"frames": len(ms), "median_ms": round(med, 3), "p99_ms": round(p99, 3),
            "max_ms": round(max(ms), 3), "p99_over_median": round(p99 / med, 3) if med else None}


def soak(minutes: float, size: tuple[int, int], fps: float, seed: int, out: Path | None,
         progress: bool) -> dict:
    ctx = headless_context()
    flagship = load_scene_class("symphony")
    scene = type("SoakSymphony", (flagship,), {"max_participants": PARTICIPANTS})(seed=seed)
    scene.setup()  # one strand bundle per participant slot
    renderer = Renderer(ctx, size)
    buf = renderer.new_frame_buffer()
    source = ComingAndGoing(seed, 0.2)
    result: dict = {"benchmark": "soak", "minutes": minutes, "size": f"{size[0]}x{size[1]}", "fps": fps,
                    "participants": PARTICIPANTS, "glitch": 0.2, "gl_renderer": renderer.renderer_name,
                    "per_minute": []}
    pauses = GcPauses()
    wall: list[list[float]] = [[]]
    cpu: list[list[float]] = [[]]
    present: list[int] = []
    with source:
        show = Show(scene, source, RealtimeClock(), live=True)
        for _ in range(WARMUP_FRAMES):  # kernels load (or compile, on a cold cache): not measured
            show.advance()
            renderer.render(scene, flip_y=True)
            renderer.read_into(buf)
        start = time.perf_counter()
        pauses.take()
        next_frame, next_minute = start, start + 60.0
        while (now := time.perf_counter()) - start < minutes * 60.0:
            c0 = time.thread_time()
            show.advance()
            renderer.render(scene, flip_y=True)
            renderer.read_into(buf)
            done = time.perf_counter()
            wall[-1].append((done - now) * 1000.0)
            cpu[-1].append((time.thread_time() - c0) * 1000.0)
            f = show.last_frame
            present.append(f.group.present if f else 0)
            if done >= next_minute:
                minute = {"minute": len(wall), "rss_mb": round(rss_mb(), 1), "wall": stats(wall[-1]),
                          "cpu": stats(cpu[-1]), "present_min": min(present), "present_max": max(present),
                          "errors": show.error_count, "rejected": source.rejects.rejected,
                          "gc_pauses": pauses.take(),
                          "host_load_1min": round(os.getloadavg()[0], 2),
                          "generator_skipped_s": round(source.skipped_s, 1)}
                result["per_minute"].append(minute)
                if progress:
                    print(json.dumps(minute), file=sys.stderr, flush=True)
                wall.append([])
                cpu.append([])
                present = []
                next_minute += 60.0
                _summarise(result, wall, cpu)
                if out is not None:
                    out.write_text(json.dumps(result, indent=1))
            next_frame = max(next_frame + 1.0 / fps, done)  # behind: no catching up in a burst
            time.sleep(max(0.0, next_frame - time.perf_counter()))
    ctx.release()
    _summarise(result, wall, cpu)
    result["finished"] = True
    if out is not None:
        out.write_text(json.dumps(result, indent=1))
    return result


def _summarise(result: dict, wall: list[list[float]], cpu: list[list[float]]) -> None:
    """Figures after the first minute (the baseline), and the targets checked."""
    rss = [m["rss_mb"] for m in result["per_minute"]]
    after_wall = [x for m in wall[1:] for x in m] or wall[0]
    after_cpu = [x for m in cpu[1:] for x in m] or cpu[0]
    w = stats(after_wall)
    result["baseline_first_minute"] = {"rss_mb": rss[0] if rss else None, "wall": stats(wall[0]),
                                       "cpu": stats(cpu[0])}
    result["after_first_minute"] = {"wall": w, "cpu": stats(after_cpu)}
    if len(rss) >= 2:
        result["rss_growth_after_first_minute_pct"] = round(100.0 * (rss[-1] - rss[0]) / rss[0], 2)
        result["rss_peak_growth_after_first_minute_pct"] = round(100.0 * (max(rss[1:]) - rss[0]) / rss[0], 2)
    result["targets"] = {
        "rss_growth_lt_5pct": result.get("rss_growth_after_first_minute_pct", float("nan")) < 5.0,
        "p99_le_1_5x_median_wall": bool(w) and w["p99_over_median"] <= 1.5,
        "p99_le_1_5x_median_cpu": bool(result["after_first_minute"]["cpu"])
        and result["after_first_minute"]["cpu"]["p99_over_median"] <= 1.5,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, help="also write the JSON here (rewritten every minute)")
    ap.add_argument("--json", action="store_true", help="print JSON only (no per-minute lines)")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.lower().split("x"))
    result = soak(args.minutes, (w, h), args.fps, args.seed, args.out, progress=not args.json)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
