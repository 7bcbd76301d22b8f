"""Frame-locked render nodes: one lead, N followers, one show.

Transport: the lead's MQTT broker (Mosquitto), not ZeroMQ PUB/SUB. A follower's subscription
is confirmed (SUBACK) before it says hello, so no frame is lost to PUB/SUB's "slow joiner";
QoS 1 keeps every frame, in order, over a link that hiccups; the broker already runs at a
venue with TLS and passwords; and the done replies travel the same connection. On loopback a
broker round trip costs about a millisecond, small beside a frame.

Topics under a base (default `symphony/nodes`, the lead URL's path):
    <base>/hello  follower → lead   {"node": name}, repeated until the first frame arrives
    <base>/frame  lead → followers  a frame's inputs (engine.network.wire), or {"end": true}
    <base>/done   follower → lead   {"node": name, "i": index} once that frame is drawn

The lead waits for every live node's done before the next tick; a node silent for `timeout`
seconds is dropped, logged and reported (`dropped`), and the others go on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
import time

from engine.clock import Tick
from engine.data import Chunk, Event
from engine.network.client import connect, make_client, parse_url
from engine.network.wire import decode_frame, encode_frame
from engine.sources.base import Source

log = logging.getLogger("symphony")
BASE = "symphony/nodes"


class NodeError(RuntimeError):
    pass


def _topics(url: str):
    u = parse_url(url)
    base = (u.topic or BASE).strip("/")
    return u, f"{base}/hello", f"{base}/frame", f"{base}/done"


class LeadLink:
    """The lead's side: gather followers, send each frame's inputs, wait for their done."""

    def __init__(self, url: str, followers: int, timeout: float = 2.0, join_timeout: float = 60.0) -> None:
        self.url, self.t_hello, self.t_frame, self.t_done = _topics(url)
        self.expected, self.timeout, self.join_timeout = followers, timeout, join_timeout
        self.nodes: list[str] = []  # live followers
        self.dropped: list[tuple[str, int]] = []  # (node, frame at which it was dropped)
        self.wait_ms: list[float] = []
        self._cv = threading.Condition()
        self._hello: list[str] = []
        self._done: dict[str, int] = {}
        self.client = make_client(self.url, client_id=f"symphony-lead-{os.getpid()}")
        self.client.on_connect = lambda c, *_: c.subscribe([(self.t_hello, 1), (self.t_done, 1)])
        self.client.on_message = self._on_message
        connect(self.client, self.url, retry=False)

    def _on_message(self, _c, _u, msg) -> None:
        try:
            doc = json.loads(msg.payload)
            node = str(doc["node"])
        except (ValueError, KeyError, TypeError):
            return
        with self._cv:
            if msg.topic == self.t_hello and node not in self._hello:
                self._hello.append(node)
            elif msg.topic == self.t_done:
                self._done[node] = max(self._done.get(node, -1), int(doc.get("i", -1)))
            self._cv.notify_all()

    def gather(self) -> list[str]:
        """Wait (up to join_timeout) for the expected followers; go on with those that came."""
        deadline = time.monotonic() + self.join_timeout
        with self._cv:
            while len(self._hello) < self.expected and time.monotonic() < deadline:
                self._cv.wait(0.1)
            self.nodes = sorted(self._hello)[: max(self.expected, 0)]
        if len(self.nodes) < self.expected:
            log.error("nodes: %d of %d followers joined (%s)", len(self.nodes), self.expected,
                      ", ".join(self.nodes) or "none")
        else:
            log.info("nodes: followers %s joined", ", ".join(self.nodes))
        return self.nodes

    def send(self, tick: Tick, chunks: list[Chunk], events: list[Event], rejected: int = 0,
             actions: list[dict] | None = None, state: dict | None = None) -> None:
        payload = encode_frame(tick, chunks, events, rejected, actions or [], self.nodes, state)
        self.client.publish(self.t_frame, payload, qos=1)

    def wait(self, index: int) -> list[str]:
        """Block until every live node has drawn frame `index`; returns the nodes dropped now."""
        start = time.monotonic()
        deadline = start + self.timeout
        with self._cv:
            while True:
                late = [n for n in self.nodes if self._done.get(n, -1) < index]
                if not late or time.monotonic() >= deadline:
                    break
                self._cv.wait(max(0.0, min(0.05, deadline - time.monotonic())))
        self.wait_ms.append((time.monotonic() - start) * 1000.0)
        for node in late:
            self.nodes.remove(node)
            self.dropped.append((node, index))
            log.error("nodes: follower %s dropped: no frame-done for frame %d within %.1f s",
                      node, index, self.timeout)
        return late

    def close(self) -> None:
        info = self.client.publish(self.t_frame, json.dumps({"end": True}).encode(), qos=1)
        with contextlib.suppress(RuntimeError, ValueError):
            info.wait_for_publish(2.0)  # the followers learn the show is over
        self.client.disconnect()
        self.client.loop_stop()


class FollowerLink:
    """A follower's side: frames in order from a queue; `done(i)` once frame i is drawn."""

    def __init__(self, url: str, node: str) -> None:
        self.url, self.t_hello, self.t_frame, self.t_done = _topics(url)
        self.node = node
        self.frames: queue.Queue = queue.Queue()
        self._subscribed = threading.Event()
        self._started = False
        self.client = make_client(self.url, client_id=f"symphony-node-{node}-{os.getpid()}")
        self.client.on_connect = lambda c, *_: c.subscribe(self.t_frame, qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self.frames.put(msg.payload)
        connect(self.client, self.url)

    def next(self, timeout: float = 60.0):
        """The next frame's inputs (engine.network.wire.FrameInputs), or None at the end of the
        show or when the lead is silent for `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self._started:  # hello until the first frame comes
            if self._subscribed.is_set():
                self.client.publish(self.t_hello, json.dumps({"node": self.node}), qos=1)
            try:
                payload = self.frames.get(timeout=0.5)
                self._started = True
                break
            except queue.Empty:
                if time.monotonic() > deadline:
                    return None
        else:
            try:
                payload = self.frames.get(timeout=timeout)
            except queue.Empty:
                log.error("node %s: the lead sent nothing for %.0f s", self.node, timeout)
                return None
        if payload.startswith(b'{"end"'):
            return None
        return decode_frame(payload)

    def done(self, index: int) -> None:
        self.client.publish(self.t_done, json.dumps({"node": self.node, "i": index}), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class FedSource(Source):
    """A follower's source: exactly the chunks and events the lead's source gave this frame,
    and the lead source's derived state (the network hub's Alcoves) when it had one."""

    kind = "node"

    def __init__(self) -> None:
        self.next: tuple[list[Chunk], list[Event]] = ([], [])
        self.rejects = _Count()
        self.state: dict | None = None
        self._alcoves = None

    def feed(self, inputs) -> None:
        self.next, self.state = (inputs.chunks, inputs.events), inputs.state
        self.rejects.rejected = inputs.rejected

    def poll(self, now: float) -> tuple[list[Chunk], list[Event]]:
        out, self.next = self.next, ([], [])
        return out

    def fill_frame(self, frame) -> None:
        if self.state is None:
            return
        if self._alcoves is None:
            from engine.network.alcoves import AlcoveState

            self._alcoves = AlcoveState()
        self._alcoves.apply(frame, self.state)


def source_rejected(source) -> int:
    """The count `Show` turns into frame.glitch: followers must see the lead's."""
    rejects = getattr(source, "rejects", None)
    return int(getattr(rejects, "rejected", 0)) if rejects is not None else 0


def source_state(source) -> dict | None:
    """What a lead sends of its source's derived state (None for sources of samples)."""
    snapshot = getattr(source, "last_snapshot", None)
    return dict(snapshot) if snapshot is not None else None


class _Count:
    rejected = 0  # the lead source's rejections so far: frame.glitch follows the lead's


class FedClock:
    """A follower's clock: the lead's ticks."""

    def __init__(self) -> None:
        self.next = Tick(0, 0.0, 0.0)

    def tick(self) -> Tick:
        return self.next
