"""The console's text: what the operator reads, as one small RGBA Pillow image.

Page 0 (show): fps and the frame-time graph, dropped frames, cues, blackout/master/freeze,
failover, participants, source health, OSC control, recording, the last errors.
Page 1 (parameters): every parameter's value and target. Page 2 (log): the show log's tail.
"""

from __future__ import annotations

import statistics

from PIL import Image, ImageDraw, ImageFont

from engine.hud import source_alarms
from engine.perform.state import operator_state
from engine.scene import param_state

PAGES = ("show", "parameters", "log")
TEXT = (210, 225, 240, 255)
WARN = (255, 190, 90, 255)
ERROR = (255, 110, 110, 255)
LINE = 13


def show_lines(state, session, frame_ms: list[float]) -> list[tuple[str, tuple]]:
    show, op, d = state.show, operator_state(state.show), session.dispatcher
    ms = statistics.median(frame_ms) if frame_ms else 0.0
    dropped = sum(o.dropped for o in state.outputs)
    out = [(f"{show.scene.title} | frame {state.frame} | {ms:.1f} ms ({1000 / ms if ms else 0:.0f} fps)"
            f" | dropped {dropped}", TEXT)]
    cues = session.config.cues
    cur = cues[d.cue].name if d.cue >= 0 else "-"
    out.append((f"cue {d.cue + 1}/{len(cues)}: {cur}   next: {d.next_cue or '-'}", TEXT))
    out.append((f"blackout {'ON' if op.blackout else 'off'} (level {op.level:.2f}, fade {op.fade:g} s)  "
                f"master {op.master:.2f}  freeze {'ON' if op.freeze else 'off'}",
                WARN if op.blackout or op.freeze else TEXT))
    fo = session.failover
    if fo is not None:
        quiet = (show.last_frame.t - fo.last_live) if show.last_frame else 0.0
        out.append((f"source: {fo.active.upper()}{' (forced)' if fo.forced else ''}  live quiet {quiet:.1f} s"
                    f"  switches {fo.switches}", WARN if fo.active != "live" else TEXT))
    f = show.last_frame
    if f is not None:
        stale = f.group.count - f.group.present
        out.append((f"participants: {f.group.present} present, {stale} stale", WARN if stale else TEXT))
    src = fo.live if fo is not None else show.source
    rejects = getattr(src, "rejects", None)
    counts = dict(rejects.counts) if rejects is not None else {}
    reconnects = getattr(src, "reconnects", None)
    out.append((f"source {getattr(src, 'kind', '?')}: rejected {counts or 'nothing'}"
                + (f", reconnects {reconnects}" if reconnects is not None else ""),
                WARN if counts else TEXT))
    out += [(alarm, ERROR) for alarm in source_alarms(show.source)]  # on the console, never an output
    ctl = session.control
    if ctl is not None:
        refused = {**ctl.counts, **d.refused}
        out.append((f"OSC {ctl.spec.host}:{ctl.port}: {ctl.received} actions, refused {refused or 'none'}",
                    WARN if refused else TEXT))
    if session.record_size is not None:
        out.append((f"recording: {session.record_size() / 1e6:.1f} MB", TEXT))
    else:
        out.append(("recording: off", TEXT))
    if session.quit.armed:
        out.append(("press Esc again to end the show", ERROR))
    errors = [e.message for e in list(show.errors)[-3:]] if show.failing else []
    if session.scenes.error:
        errors.append(session.scenes.error)
    out += [(e, ERROR) for e in errors]
    return out


def console_image(size: tuple[int, int], page: int, state, session, frame_ms: list[float]) -> Image.Image:
    w, h = size
    img = Image.new("RGBA", (w, max(h, 1)), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    graph_h = 40
    if PAGES[page] == "show":
        lines = show_lines(state, session, frame_ms)
        if frame_ms:  # frame times, 0..50 ms, newest on the right
            top = 4
            draw.rectangle((8, top, w - 8, top + graph_h), outline=(60, 70, 80, 255))
            scale = graph_h / 50.0
            pts = [(w - 8 - (len(frame_ms) - i) * (w - 16) / 120, top + graph_h - min(v, 50) * scale)
                   for i, v in enumerate(frame_ms)]
            if len(pts) > 1:
                draw.line(pts, fill=(120, 200, 255, 255))
        y0 = graph_h + 10
    elif PAGES[page] == "parameters":
        scene = state.show.scene
        states = {n: param_state(scene, n) for n in type(scene).params()}
        lines = [(f"{n:<20} value {states[n].value:9.3f}   target {states[n].target:9.3f}"
                  f"   [{p.low:g}..{p.high:g}]", TEXT) for n, p in type(scene).params().items()]
        y0 = 4
    else:
        lines = [(text, TEXT) for text in session.showlog.lines]
        y0 = 4
    lines.append((f"page {PAGES[page]} (Tab)", (120, 130, 140, 255)))
    for k, (text, colour) in enumerate(lines):
        draw.text((8, y0 + k * LINE), text[: max(20, w // 6)], font=font, fill=colour)
    return img
