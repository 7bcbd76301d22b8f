"""Replay a recorded show frame for frame (`render ... --timing show`).

`ShowRecording` reads what `ShowStreams` wrote: each frame's clock tick, the chunks it consumed
(cut where they were cut), its events, the operator's actions and the scene code that ran.
`RecordedClock` gives the show those ticks and `RecordedInputs` (a `Source`) those chunks, so
the same deterministic engine reaches the same state and draws the same frames.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.clock import Tick
from engine.data import Chunk, Event
from engine.perform.dim import dim_into
from engine.perform.state import operator_state
from engine.recording.show_streams import ACTIONS, CHUNKS, SCENES, TICKS
from engine.scene import param_state, step_scene
from engine.sources.base import Source, SourceError

log = logging.getLogger("symphony")


@dataclass
class ShowRecording:
    path: Path
    ticks: np.ndarray  # (frames, 5): index, t, dt, events, source glitches so far
    chunk_rows: np.ndarray  # (chunks, 3): frame, stream id, samples
    data: dict[int, tuple[str, str, str, np.ndarray, np.ndarray]]  # id -> participant, channel, alcove, t, v
    events: list[Event]
    actions: dict[int, list[dict]] = field(default_factory=dict)  # frame -> actions before it
    scenes: dict[int, list[dict]] = field(default_factory=dict)  # frame -> [{"file", "code"} | {"rollback"}]
    meta: dict = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return len(self.ticks)


def load_show(path: str | Path) -> ShowRecording:
    """Read a show recording; one-line SourceError if it has no show streams or is unreadable."""
    import pyxdf

    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False, synchronize_clocks=False)
    except Exception as exc:  # noqa: BLE001 - pyxdf raises many kinds; the user gets one line
        raise SourceError(f"cannot replay {path.name} as a show: {type(exc).__name__}: {exc}") from None
    named = {s["info"]["name"][0]: s for s in streams}
    if TICKS not in named:
        raise SourceError(f"{path.name} holds no show streams (record it with show --record); "
                          "use --timing fixed to replay its data")
    ticks = np.asarray(named[TICKS]["time_series"], np.float64).reshape(-1, 5)
    rows = (np.asarray(named[CHUNKS]["time_series"], np.int64).reshape(-1, 3) if CHUNKS in named
            else np.zeros((0, 3), np.int64))
    data = {}
    for s in streams:
        desc = (s["info"].get("desc") or [None])[0] or {}
        if "participant" in desc and "channel" in desc:
            sid = int(s["info"]["stream_id"])
            v = np.asarray(s["time_series"], np.float32).reshape(len(s["time_stamps"]), -1)[:, 0]
            data[sid] = (desc["participant"][0], desc["channel"][0], (desc.get("alcove") or [""])[0] or "",
                         np.asarray(s["time_stamps"], np.float64), np.ascontiguousarray(v))
    events = []
    if "markers" in named:
        for t, (text,) in zip(named["markers"]["time_stamps"], named["markers"]["time_series"], strict=True):
            doc = json.loads(text)
            if doc.get("kind") != "operator":
                value = float(doc.get("value", 0.0))
                events.append(Event(float(t), doc["kind"], doc.get("participant"), value))
    rec = ShowRecording(path, ticks, rows, data, events)
    for name, target in ((ACTIONS, rec.actions), (SCENES, rec.scenes)):
        for (text,) in (named[name]["time_series"] if name in named else []):
            doc = json.loads(text)
            frame = int(doc.pop("frame"))
            if name == ACTIONS and doc.get("kind") == "show":
                rec.meta = doc
                continue
            target.setdefault(frame, []).append(doc)
    return rec


def show_summary(rec: ShowRecording) -> dict:
    """What `inspect` says about a show recording: frames, frame timing, actions, reloads."""
    dt = rec.ticks[1:, 2] if rec.frames > 1 else np.zeros(0)
    kinds: dict[str, int] = {}
    for actions in rec.actions.values():
        for a in actions:
            kinds[a.get("kind", "?")] = kinds.get(a.get("kind", "?"), 0) + 1
    docs = [d for ds in rec.scenes.values() for d in ds]
    loads = sum(1 for d in docs if "code" in d)
    meta = {k: rec.meta[k] for k in ("seed", "size", "fps", "layout", "venue", "scene") if k in rec.meta}
    return {"frames": rec.frames,
            "duration": round(float(rec.ticks[-1, 1] - rec.ticks[0, 1]), 3) if rec.frames else 0.0,
            "fps": round(1.0 / float(np.median(dt)), 2) if dt.size and np.median(dt) > 0 else None,
            "dt_max": round(float(dt.max()), 4) if dt.size else None,
            "chunks": int(len(rec.chunk_rows)), "actions": kinds,
            "reloads": max(0, loads - 1) if 0 in rec.scenes else loads,  # the first load is not one
            "rollbacks": sum(1 for d in docs if d.get("rollback")), "meta": meta}


class RecordedClock:
    """The live show's ticks, in order: the same t and dt each frame saw."""

    def __init__(self, recording: ShowRecording, start: int = 0) -> None:
        self.rows = recording.ticks
        self._i = start

    def tick(self) -> Tick:
        if self._i >= len(self.rows):
            raise SourceError("the recording has no more frames")
        index, t, dt = self.rows[self._i, :3]
        self._i += 1
        return Tick(int(index), float(t), float(dt))


class _RecordedRejects:
    """What the live source had rejected by each frame (it drove frame.glitch)."""

    glitches = rejected = 0


class RecordedInputs(Source):
    """Each frame's chunks and events exactly as the live frame consumed them."""

    kind = "show-replay"
    description = "a recorded show, frame by frame (render --timing show)"

    def __init__(self, recording: ShowRecording, start: int = 0) -> None:
        self.rec = recording
        by_frame: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for frame, sid, n in recording.chunk_rows:
            by_frame[int(frame)].append((int(sid), int(n)))
        self._by_frame = by_frame
        self._cursor = {sid: 0 for sid in recording.data}
        self._event = 0
        self._frame = 0
        self.damaged = False
        self.rejects = _RecordedRejects()
        while self._frame < start:  # skip what frames before `start` consumed
            self.poll(0.0)

    def poll(self, now: float) -> tuple[list[Chunk], list[Event]]:
        if self._frame >= self.rec.frames:
            return [], []
        index, _, _, n_events, glitches = self.rec.ticks[self._frame]
        self.rejects.glitches = self.rejects.rejected = int(glitches)
        chunks = []
        for sid, n in self._by_frame.get(int(index), []):
            if sid not in self.rec.data:
                self._damaged(f"stream {sid} is missing")
                continue
            pid, channel, alcove, t, v = self.rec.data[sid]
            a = self._cursor[sid]
            if a + n > len(t):
                self._damaged(f"stream {pid}/{channel} ends early")
                n = max(0, len(t) - a)
            chunks.append(Chunk(pid, channel, t[a:a + n], v[a:a + n], alcove=alcove))
            self._cursor[sid] = a + n
        k = int(n_events)
        events = self.rec.events[self._event:self._event + k]
        self._event += k
        self._frame += 1
        return chunks, events

    def _damaged(self, why: str) -> None:
        if not self.damaged:
            log.warning("%s is damaged at frame %d (%s): replaying what is there", self.rec.path.name,
                        self._frame, why)
        self.damaged = True


def replay_frames(rec: ShowRecording, scene_ref: str, seed: int, size: tuple[int, int], layout,
                  next_buffer, start: int = 0, count: int | None = None):
    """Frames [start, start + count) of a recorded show, each read back into a buffer from
    `next_buffer` (top row first). The scene code recorded with the show is the code that runs."""
    import tempfile

    from engine.render import Renderer, headless_context
    from engine.render.layouts import parse_layout
    from engine.runtime import Show
    from engine.scene import create_scene

    end = rec.frames if count is None else min(rec.frames, start + count)
    with tempfile.TemporaryDirectory(prefix="symphony-replay-") as tmp:
        seed = int(rec.meta.get("seed", seed))
        swaps = _SceneSwaps(rec, Path(tmp), seed)
        scene = swaps.first() or create_scene(scene_ref, seed=seed)
        show = Show(scene, RecordedInputs(rec), RecordedClock(rec), live=True)  # the live guards
        ctx = headless_context()
        try:
            renderer = Renderer(ctx, size, layout=parse_layout(layout))
            last = None
            freezes = any(a.get("kind") == "freeze" for acts in rec.actions.values() for a in acts)
            for i in range(end):
                if i and swaps.apply(show, i):
                    renderer.prune(show.scene)
                apply_actions(show, rec.actions.get(i, ()))
                op = operator_state(show)
                op.advance(show.last_frame.dt if show.last_frame else 0.0, show.scene)
                show.advance()
                if swaps.rollback(show, i):
                    renderer.prune(show.scene)
                if i >= start or freezes:
                    if op.freeze and last is not None:  # the outputs kept the frozen image
                        buffer = next_buffer()
                        buffer[...] = last
                    else:
                        renderer.render(show.scene, flip_y=True)
                        buffer = renderer.read_into(next_buffer())
                        last = buffer.copy() if freezes else None
                    if i >= start:
                        yield dim_into(buffer, op.gain)
        finally:
            ctx.release()


class _SceneSwaps:
    """The live show's scene swaps, replayed at the frames they happened, with the live
    reloader's bookkeeping (engine.reload): a reload runs the recorded code and inherits the
    running scene's state; a cue's scene warms up off screen as the cue did; a rollback brings
    back the very scene object that ran before (on probation) or the last clean version."""

    def __init__(self, rec: ShowRecording, folder: Path, seed: int) -> None:
        self.rec, self.folder, self.seed = rec, folder, seed
        self.previous = self.clean = None
        self._probation = False

    def _load(self, frame: int, doc: dict):
        from engine.scene import load_scene_class

        path = self.folder / f"{frame}_{Path(doc['file']).name}"
        path.write_text(doc["code"], encoding="utf-8")
        scene = load_scene_class(str(path))(seed=self.seed)
        scene.setup()
        return scene

    def first(self):
        docs = [d for d in self.rec.scenes.get(0, ()) if "code" in d]
        return self._load(0, docs[-1]) if docs else None

    def apply(self, show, frame: int) -> bool:
        """Before frame `frame` advances: the swaps recorded for it."""
        from engine.reload import carry_state

        swapped = False
        for doc in self.rec.scenes.get(frame, ()):
            if "code" not in doc:
                continue
            new = self._load(frame, doc)
            if doc.get("how") == "cue":
                from engine.perform.cues import WARM_UP

                for _ in range(int(WARM_UP * 30)):
                    step_scene(new, 1.0 / 30.0)
                new.time = show.scene.time
                self.previous = self.clean = None
                self._probation = False
            else:
                carry_state(show.scene, new)
                self.previous, self._probation = show.scene, True
            show.scene = new
            swapped = True
        return swapped

    def rollback(self, show, frame: int) -> bool:
        """After frame `frame` advanced: end a probation, or roll back as the live show did."""
        from engine.reload import carry_state

        whys = [d["rollback"] for d in self.rec.scenes.get(frame, ()) if d.get("rollback")]
        swapped = False
        if self._probation:
            if "probation" in whys or True in whys:
                show.scene, swapped = self.previous, True
            else:
                self.clean = self.previous
            self.previous, self._probation = None, False
        if "watch" in whys and self.clean is not None:
            carry_state(show.scene, self.clean)
            show.scene, self.clean, swapped = self.clean, None, True
        return swapped


def apply_actions(show, actions) -> None:
    """Operator actions as the live show applied them before this frame (engine.perform:
    parameters, cues' parameter glides, blackout, fade, master and freeze at the output stage;
    a cue's scene change arrives through the show/scenes stream)."""
    for action in actions:
        kind = action.get("kind")
        op = operator_state(show)
        if kind == "param":
            state = param_state(show.scene, action["name"])
            spec = type(show.scene).params()[action["name"]]
            op.glides.pop(action["name"], None)
            state.target = spec.clamp(float(action["value"]))
        elif kind == "cue":
            op.glide(show.scene, action.get("params") or {}, float(action.get("fade", 0.0)))
        elif op.apply(kind, action):
            pass
        elif kind in ("failover", "panic"):
            pass  # the data each frame consumed is recorded; panic's blackout is its own action
        else:
            log.warning("replay: unknown operator action %r ignored", kind)
