"""Live render nodes: `show --lead URL` and `show --follow URL --output NAME` (windows).

The lead runs the show as usual (real-time clock, source, window) and, once its followers
have joined, sends each frame's inputs; it shows a frame only after every live node has
drawn it (or been dropped: the operator sees it on the HUD, the audience does not). A
follower opens a window for its region of the canvas, draws each frame the lead sends, and
shows it when the next frame arrives, i.e. right after the lead has shown it: frames are
released together, one broker hop apart.
"""

from __future__ import annotations

import logging

from engine.clock import Tick
from engine.network.node_render import apply_actions
from engine.network.nodes import (
    FedClock,
    FedSource,
    FollowerLink,
    LeadLink,
    NodeError,
    source_rejected,
    source_state,
)
from engine.runtime import Show

log = logging.getLogger("symphony")


def run_lead_show(scene_ref: str, url: str, followers: int, timeout: float = 2.0, **show_args) -> int:
    from engine.live import run_show
    link = LeadLink(url, followers, timeout)
    taken: list = []

    def start(show: Show) -> None:
        link.gather()
        show.taps.append(lambda chunks, events: taken.append((chunks, events)))

        def send(frame) -> None:
            chunks, events = taken[-1] if taken else ([], [])
            taken.clear()
            link.send(Tick(frame.index, frame.t, frame.dt), chunks, events, source_rejected(show.source),
                      state=source_state(show.source))

        show.observers.append(send)

    def after(state) -> None:
        frame = state.show.last_frame
        for node in link.wait(frame.index):
            state.show.report("nodes", frame.index, NodeError(f"follower {node} dropped (no frame-done "
                                                              f"within {timeout:g} s)"))

    try:
        return run_show(scene_ref, on_start=start, on_frame=after, **show_args)
    finally:
        link.close()


def run_follow_show(scene_ref: str, url: str, node: str, canvas: tuple[int, int],
                    region: tuple[int, int, int, int] | None, monitor: int = 0, fullscreen: bool = False,
                    seed: int = 0, frames: int | None = None, timeout: float = 60.0) -> int:
    from engine.outputs.window import Window
    from engine.render import Renderer
    from engine.scene import create_scene
    from engine.venue.stage import RegionLayout

    region = region or (0, 0, *canvas)
    scene = create_scene(scene_ref, seed=seed)
    src, clock = FedSource(), FedClock()
    show = Show(scene, src, clock, live=True)
    window = Window(f"Symphony — {scene.title} — node {node}", region[2:], monitor, fullscreen, vsync=False)
    link = FollowerLink(url, node)
    drawn = 0
    try:
        renderer = Renderer(window.ctx, window.framebuffer_size, layout=RegionLayout(canvas, region, 0))
        shown = True
        while not window.should_close and (frames is None or drawn < frames):
            inputs = link.next(timeout)
            if not shown:  # the lead sends the next frame only once it has shown this one: show it too
                window.swap()
                shown = True
            if inputs is None:
                break
            tick = inputs.tick
            apply_actions(scene, inputs.actions)
            clock.next = tick
            src.feed(inputs)
            show.advance()
            try:
                renderer.resize(window.framebuffer_size)
                renderer.render(scene, target=window.screen())
            except Exception as exc:  # noqa: BLE001 - a live node keeps going
                show.report("render", tick.index, exc)
            link.done(tick.index)
            shown = False
            drawn += 1
        if not shown:
            window.swap()
    finally:
        link.close()
        window.destroy()
    return drawn
