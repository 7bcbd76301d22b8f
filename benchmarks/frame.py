"""End-to-end frame benchmark: simulate + render + post + read back, on this machine's GL.

    python benchmarks/frame.py --json
    python benchmarks/frame.py --outputs 2 --json    # venue outputs: 2 x 1080p against 1
    python benchmarks/frame.py --window              # the live window path (Xvfb) against offline

The scene: 1,000,000 particles and 1,008 × 64 strands in a 64³ flow field, with bloom, driven
by the synthetic Alcove. Ours uses the particle path the renderer picks (the CPU splat on
software GL, point sprites on a GPU); the naive baseline, measured in the same run, is the
same scene with every particle drawn as a GL point. Also times one 48-view quilt frame
(8 × 6 views) at 4096 × 4096 when the quilt layout is available. Frame figures are medians
over the measured frames (the mean is printed too): the host is shared and noisy. Each case
prints its steps: simulate, upload, draw (layers, CPU paint, trails), post (bloom and
composite, timed inside the frame) and read back (or, with --window, the swap).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.frame_steps import (  # noqa: E402
    ReadBack,
    WindowPresent,
    start_xvfb,
    summary,
    time_frame,
    time_post,
)
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
        self.strands.follow_participants = False  # every bundle drawn from the first frame
        self.sparks = self.add(ParticleLayer(self.strands, self.particles, size=2.0, seed=self.seed))
        self.post.bloom_strength = 0.8

    def update(self, frame) -> None:
        s = self.strands
        for p in frame.participants:
            b = p.slot % s.bundles
            s.color[b] = (0.2 + 0.6 * p.norm("saliva_ph"), 0.7, 1.0)
            s.glow[b] = 0.8 + p.pulse
        s.togetherness = frame.group.synchrony
        self.camera.azimuth = 10.0 * frame.t


def measure(size: tuple[int, int], path: str, frames: int, warmup: int, layout=None) -> dict:
    ctx = headless_context()
    scene = BenchScene(seed=1)
    scene.setup()
    scene.sparks.path = path
    renderer = Renderer(ctx, size, layout=layout)
    show = Show(scene, open_source("synthetic:participants=16", seed=1), FixedClock(30))
    present, post_times, split = ReadBack(renderer), [], []
    for i in range(warmup + frames):
        step = time_frame(show, scene, renderer, present, post_times)
        time_post(renderer, post_times)  # view buffers exist after the first frame
        if i >= warmup:
            split.append(step)
    ctx.release()
    return {"size": f"{size[0]}x{size[1]}", "particle_path": path, "frames": frames,
            **summary(split, "read_back"),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
            "gl_renderer": renderer.renderer_name}


def measure_window(size: tuple[int, int], frames: int, warmup: int) -> dict:
    """The live window path against the offline path, in one GL context of one window: frames
    alternate between drawing into the window and swapping, and drawing offscreen and reading
    back (same scene, same load), so the difference is the window's own."""
    from engine.outputs.window import Window

    xvfb = start_xvfb(size)
    try:
        window = Window("frame benchmark", size, vsync=False)
        try:
            scene = BenchScene(seed=1)
            scene.setup()
            renderer = Renderer(window.ctx, size)
            show = Show(scene, open_source("synthetic:participants=16", seed=1), FixedClock(30))
            presents = [WindowPresent(window), ReadBack(renderer)]
            split: dict[str, list] = {p.name: [] for p in presents}
            post_times: list[float] = []
            for i in range(2 * (warmup + frames)):
                present = presents[i % 2]
                step = time_frame(show, scene, renderer, present, post_times)
                time_post(renderer, post_times)
                if i >= 2 * warmup:
                    split[present.name].append(step)
            name = renderer.renderer_name
        finally:
            window.destroy()
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(timeout=10)
    from engine.runtime import MAX_STEP

    win, off = summary(split["swap"], "swap"), summary(split["read_back"], "read_back")
    # a live show's clock is real time: a frame longer than MAX_STEP takes several solver steps
    # (this benchmark's fixed clock takes one), so a slow show also simulates more per frame
    steps = math.ceil(win["ms_per_frame"] / (MAX_STEP * 1000.0))
    return {"size": f"{size[0]}x{size[1]}", "frames": frames, "window": win, "baseline_offline": off,
            "window_vs_offline_ms": win["ms_per_frame"] - off["ms_per_frame"],
            "live_solver_steps_per_frame_at_this_speed": steps, "gl_renderer": name}


def measure_outputs(outputs: int, frames: int, warmup: int, size=(1920, 1080)) -> dict:
    """`outputs` 1080p venue outputs of the full symphony scene from one simulation: simulate
    once, render the (shared) view once, then each output's warp/blend/mask pass into its own
    1080p target. Offscreen (no windows): what a swap costs depends on the display.

    Every frame also times a plain copy pass (one bilinear fetch per pixel, the least an
    output can cost), interleaved with the output passes so the shared host's load swings hit
    both alike; one output's frame is this frame's simulation + view + first output's pass."""
    from engine.outputs.mapping_pass import MappingPass, ViewImage
    from engine.render.layouts import FlatLayout
    from engine.render.layouts.base import Offscreen
    from engine.scene import create_scene
    from engine.venue.config import Blend, Mask, OutputSpec

    ctx = headless_context()
    scene = create_scene("symphony", seed=1)
    renderer = Renderer(ctx, (16, 16))
    show = Show(scene, open_source("synthetic:participants=16", seed=1), FixedClock(30))
    view_image, layout = Offscreen("f1"), FlatLayout()
    view_fbo = view_image.get(ctx, size)
    passes, targets = [], []
    for i in range(outputs):  # a realistic mapping: keystone, soft edge, a mask, a trim
        spec = OutputSpec(f"out{i}", corners=[(0.02, 0.0), (0.98, 0.03), (1.0, 1.0), (0.0, 0.97)],
                          blend=Blend(right=0.2) if i % 2 == 0 else Blend(left=0.2),
                          masks=[Mask([(0.9, 0.7), (1.0, 0.7), (1.0, 1.0), (0.9, 1.0)], 0.02)],
                          brightness=0.95)
        passes.append(MappingPass(ctx, spec))
        targets.append(Offscreen("f1").get(ctx, size))
    copy = _CopyPass(ctx)
    sims, renders, warps, copies = [], [], [], []
    for i in range(warmup + frames):
        t0 = time.perf_counter()
        show.advance()
        t1 = time.perf_counter()
        renderer.upload(scene)
        view_fbo.viewport = (0, 0, *size)
        layout.render(renderer, scene, view_fbo, size, False)
        ctx.finish()
        t2 = time.perf_counter()
        view = ViewImage(view_image.texture.glo, size, (0.0, 1.0, 1.0, -1.0), (0.0, 0.0, 1.0, 1.0))
        frame_warps = []
        for mapping, target in zip(passes, targets, strict=True):
            t3 = time.perf_counter()
            mapping.draw(target, size, view)
            ctx.finish()
            frame_warps.append(time.perf_counter() - t3)
        t4 = time.perf_counter()
        copy.run(view_image.texture, targets[0], size)
        t5 = time.perf_counter()
        if i >= warmup:
            sims.append(t1 - t0)
            renders.append(t2 - t1)
            warps.append(frame_warps)
            copies.append(t5 - t4)
    name = renderer.renderer_name
    ctx.release()
    ms = 1000.0
    one = [s + r + w[0] for s, r, w in zip(sims, renders, warps, strict=True)]
    many = [s + r + sum(w) for s, r, w in zip(sims, renders, warps, strict=True)]
    per_output = [sum(w) / outputs for w in warps]
    return {"outputs": outputs, "size": f"{size[0]}x{size[1]}", "frames": frames,
            "ms_per_frame": statistics.median(many) * ms, "fps": 1.0 / statistics.median(many),
            "baseline_one_output_ms_per_frame": statistics.median(one) * ms,
            "baseline_one_output_fps": 1.0 / statistics.median(one),
            "cost_ratio_vs_one_output": statistics.median([m / o for m, o in zip(many, one, strict=True)]),
            "simulate_ms": statistics.median(sims) * ms,
            "render_view_ms": statistics.median(renders) * ms,
            "warp_blend_mask_ms_per_output": statistics.median(per_output) * ms,
            "baseline_copy_pass_ms": statistics.median(copies) * ms,
            "warp_vs_copy_ratio": statistics.median([w / c for w, c in zip(per_output, copies, strict=True)]),
            "target": "warp pass <= 3 ms per 1080p output; 2 outputs >= 12 fps",
            "gl_renderer": name}


class _CopyPass:
    """The least a 1080p output can cost: one full-screen triangle copying the view with a
    bilinear fetch (the baseline for the warp/blend/mask pass)."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.prog = ctx.program(
            vertex_shader="#version 330\nout vec2 v_uv;\nvoid main() { vec2 p = vec2((gl_VertexID << 1) & 2, "
                          "gl_VertexID & 2); v_uv = p; gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0); }",
            fragment_shader="#version 330\nuniform sampler2D u_view; in vec2 v_uv; out vec4 f;\n"
                            "void main() { f = vec4(texture(u_view, v_uv).rgb, 1.0); }")
        self.vao = ctx.vertex_array(self.prog, [])

    def run(self, texture, target, size) -> None:
        import moderngl

        texture.use(0)
        target.viewport = (0, 0, *size)
        target.use()
        self.vao.render(moderngl.TRIANGLES, vertices=3)
        self.ctx.finish()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON only")
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--baseline-frames", type=int, default=3)
    ap.add_argument("--no-quilt", action="store_true")
    ap.add_argument("--window", action="store_true",
                    help="the live window path (Xvfb when no DISPLAY) against offline, in this run")
    ap.add_argument("--size", default="1920x1080", help="frame size for --window")
    ap.add_argument("--outputs", type=int, metavar="N",
                    help="time N 1080p venue outputs of the symphony scene against one, in this run")
    args = ap.parse_args()
    if args.window:
        result = measure_window(tuple(int(v) for v in args.size.split("x")), args.frames, 3)
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            for key in ("window", "baseline_offline"):
                r = result[key]
                steps = ", ".join(f"{k} {v:.1f}" for k, v in r.items() if k.endswith("_ms"))
                print(f"{key}: {r['ms_per_frame']:.1f} ms ({r['fps']:.1f} fps): {steps}")
        return
    if args.outputs:
        result = measure_outputs(args.outputs, args.frames, 5)
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            r = result
            print(f"{args.outputs} x {r['size']}: {r['ms_per_frame']:.1f} ms ({r['fps']:.1f} fps) "
                  f"vs one output {result['baseline_one_output_ms_per_frame']:.1f} ms; warp/blend/mask "
                  f"{result['warp_blend_mask_ms_per_output']:.2f} ms per output, "
                  f"{result['warp_vs_copy_ratio']:.2f}x a plain copy pass")
        return
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
