"""A frame's inputs on the wire: the tick, the chunks and events the source gave, operator
actions, as JSON with sample arrays as base64 (exact float64 times, float32/64 values).

The same description as a show recording's streams (engine/recording/show_streams.py): a
follower that re-runs a frame from it gets the frame the lead got, bit for bit.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass

import numpy as np

from engine.clock import Tick
from engine.data import Chunk, Event


def _arr(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()


def encode_chunk(c: Chunk) -> dict:
    t = np.asarray(c.t, np.float64)
    v = np.asarray(c.v)
    if v.dtype not in (np.float32, np.float64):
        v = v.astype(np.float64)
    little = v.astype(v.dtype.newbyteorder("<"))
    return {"p": c.participant, "c": c.channel, "t": _arr(t.astype("<f8")), "v": _arr(little),
            "d": v.dtype.str.lstrip("<>="), "a": None if math.isnan(c.arrival) else c.arrival,
            "o": c.source_offset, "al": c.alcove}


def decode_chunk(d: dict) -> Chunk:
    dtype = np.dtype("<" + d["d"]) if d["d"] in ("f4", "f8") else np.dtype("<f8")
    t = np.frombuffer(base64.b64decode(d["t"]), "<f8").astype(np.float64)
    v = np.frombuffer(base64.b64decode(d["v"]), dtype).astype(dtype.newbyteorder("="))
    return Chunk(str(d["p"]), str(d["c"]), t, v, math.nan if d["a"] is None else float(d["a"]),
                 float(d["o"]), str(d["al"]))


def encode_frame(tick: Tick, chunks: list[Chunk], events: list[Event], rejected: int,
                 actions: list[dict], nodes: list[str], state: dict | None = None) -> bytes:
    """`state`: a derived-state source's snapshot (the network hub's {alcove: (age, message)})."""
    doc = {"i": tick.index, "t": tick.t, "dt": tick.dt, "rejected": rejected,
           "chunks": [encode_chunk(c) for c in chunks],
           "events": [[e.t, e.kind, e.participant, e.value] for e in events],
           "actions": actions, "nodes": nodes, "state": state}
    return json.dumps(doc, separators=(",", ":")).encode()


@dataclass
class FrameInputs:
    tick: Tick
    chunks: list[Chunk]
    events: list[Event]
    rejected: int
    actions: list[dict]
    nodes: list[str]
    state: dict | None = None


def decode_frame(payload: bytes) -> FrameInputs:
    doc = json.loads(payload)
    tick = Tick(int(doc["i"]), float(doc["t"]), float(doc["dt"]))
    events = [Event(float(t), str(k), p, float(v)) for t, k, p, v in doc["events"]]
    state = doc.get("state")
    if state is not None:
        state = {str(a): (float(age), msg) for a, (age, msg) in state.items()}
    return FrameInputs(tick, [decode_chunk(c) for c in doc["chunks"]], events, int(doc["rejected"]),
                       doc["actions"], list(doc["nodes"]), state)
