"""End-to-end frame benchmark: simulate + render + post + read back, on this machine's GL.

    python benchmarks/frame.py --json

The scene: 1,000,000 particles and 1,008 × 64 strands in a 64³ flow field, with bloom, driven
by the synthetic Alcove. Ours uses the particle path the renderer picks (the CPU splat on
software GL, point sprites on a GPU); the naive baseline, measured in the same run, is the
same scene with every particle drawn as a GL point. Also times one 48-view quilt frame
(8 × 6 views) at 4096 × 4096 when the quilt layout is available. Frame figures are medians
over the measured frames (the mean is printed too): the host is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import FlowField, ParticleLayer, Scene, StrandLayer  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.render import Renderer, headless_context  # noqa: E402
from engine.runtime import Show  # noqa: E402
from engine.sources import open_source  # noqa: E402


class BenchScene(Scene):
    title = "benchmark"
    max_participants = 16
    particles = 1_000_000

    def setup(self) -> None:
        self.field = FlowField(64, seed=self.seed)
        self.strands = self.add(StrandLayer(16, 63, 64, width=2.5, seed=self.seed))
        self.sparks = self.add(ParticleLayer(self.strands, self.particles, size=2.0, seed=self.seed))
        self.post.bloom_strength = 0.8

    def update(self, frame) -> None:
        s = self.strands
        for p in frame.participants:
            b = p.slot % s.bundles
            s.color[b] = (0.2 + 0.6 * p.norm("saliva_ph"), 0.7, 1.0)
            s.glow[b] = 0.8 + p.beat
        s.togetherness = frame.group.synchrony
        self.camera.azimuth = 10.0 * frame.t


def measure(size: tuple[int, int], path: str, frames: int, warmup: int, layout=None) -> dict:
    ctx = headless_context()
    scene = BenchScene(seed=1)
    scene.setup()
    scene.sparks.path = path
    renderer = Renderer(ctx, size, layout=layout)
    show = Show(scene, open_source("synthetic:participants=16", seed=1), FixedClock(30))
    buf = renderer.new_frame_buffer()
    sims, draws = [], []
    for i in range(warmup + frames):
        t0 = time.perf_counter()
        show.advance()
        t1 = time.perf_counter()
        renderer.render(scene, flip_y=True)
        renderer.read_into(buf)
        t2 = time.perf_counter()
        if i >= warmup:
            sims.append(t1 - t0)
            draws.append(t2 - t1)
    ctx.release()
    totals = [s + d for s, d in zip(sims, draws, strict=True)]
    median = statistics.median(totals)
    return {"size": f"{size[0]}x{size[1]}", "particle_path": path, "frames": frames,
            "ms_per_frame": median * 1000, "fps": 1.0 / median,
            "mean_ms_per_frame": statistics.fmean(totals) * 1000,
            "simulate_ms": statistics.median(sims) * 1000,
            "render_post_readback_ms": statistics.median(draws) * 1000,
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
            "gl_renderer": renderer.renderer_name}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON only")
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--baseline-frames", type=int, default=3)
    ap.add_argument("--no-quilt", action="store_true")
    args = ap.parse_args()
    results = {"cases": []}
    for size in ((1280, 720), (1920, 1080)):
        ours = measure(size, "auto", args.frames, 5)
        naive = measure(size, "points", args.baseline_frames, 1)
        ours["baseline_ms_per_frame"] = naive["ms_per_frame"]
        ours["speedup_vs_gl_points"] = naive["ms_per_frame"] / ours["ms_per_frame"]
        ours["target"] = ">= 15 fps at 1920x1080" if size == (1920, 1080) else None
        results["cases"] += [ours, naive]
    if not args.no_quilt:
        try:
            from engine.render.layouts import parse_layout
            layout = parse_layout("quilt:8x6")
        except Exception as exc:  # noqa: BLE001 - the quilt layout may not be there yet
            results["quilt_4096"] = f"unavailable: {exc}"
        else:
            results["quilt_4096"] = measure((4096, 4096), "auto", 2, 1, layout=layout)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for c in results["cases"]:
        print(f"{c['size']} {c['particle_path']}: {c['ms_per_frame']:.1f} ms ({c['fps']:.1f} fps)")


if __name__ == "__main__":
    main()
