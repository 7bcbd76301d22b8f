"""The network source: the hub's `owl/+/features` → one Frame with every Alcove in it.

`--source mqtt://reader:…@hub:8883/owl/+/features?ca=ca.crt` (the hub's read.url) opens this
source instead of the raw-sample MQTT source. Each Alcove's latest message fills
`frame.alcoves[alcove]` (count, present, synchrony, mean phase, channel means) and one
`Participant` per member (id `<alcove>-<key>`, `p.alcove` set). Between messages (10 Hz)
breathing phases advance at each participant's breath rate and heartbeats are re-made from
heart rate, so strands move smoothly. An Alcove silent for `stale_after` s goes stale, and
after `left_after` s it leaves the frame. Messages that fail the schema are counted, never used.
"""

from __future__ import annotations

import threading
import time

from engine.data import Event, Frame
from engine.network.alcoves import AlcoveState
from engine.network.client import MqttUrl, connect, make_client
from engine.network.features import FeatureError, alcove_of, check_message
from engine.sources.base import Source
from engine.sources.intake import Rejects


class NetworkSource(Source):
    kind = "network"
    options = {"host": str, "port": int, "topic": str, "username": str, "password": str, "tls": bool,
               "ca": str, "client_id": str, "qos": int, "max_participants": int}
    description = "the network hub: mqtt://reader:PASS@HUB:8883/owl/+/features?ca=ca.crt (hub/read.url)"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, topic: str = "owl/+/features",
                 username: str = "", password: str = "", tls: bool = False, ca: str = "",
                 client_id: str = "", qos: int = 1, max_participants: int = 4096,
                 stale_after: float = 3.0, left_after: float = 30.0) -> None:
        tls = bool(tls or ca)
        self.url = MqttUrl(host, port or (8883 if tls else 1883), topic, username, password, ca, tls)
        self.client_id, self.qos = client_id, qos
        self.max_participants, self.stale_after, self.left_after = max_participants, stale_after, left_after
        self.rejects = Rejects("network")
        self.received = 0
        self._latest: dict[str, tuple[float, dict]] = {}  # alcove → (arrival, message)
        self._lock = threading.Lock()
        self.state = AlcoveState(max_participants, stale_after, self.rejects)
        self.last_snapshot: dict[str, tuple[float, dict]] = {}  # what the last frame was made of
        self.client = None

    def start(self) -> None:
        self.client = make_client(self.url, client_id=self.client_id)
        self.client.on_connect = lambda c, _u, _f, reason, _p: (
            None if reason.is_failure else c.subscribe(self.url.topic, qos=self.qos))
        self.client.on_message = self._on_message
        connect(self.client, self.url)

    def stop(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
            self.client = None

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.is_connected()

    def _on_message(self, _c, _u, msg) -> None:
        alcove = alcove_of(msg.topic)
        try:
            doc = check_message(msg.payload)
            if alcove is None or doc["alcove"] != alcove:
                raise FeatureError("topic and alcove differ")
        except FeatureError as exc:
            self.rejects.add(str(exc))
            return
        with self._lock:
            old = self._latest.get(alcove)
            if old is None or doc["seq"] >= old[1]["seq"] or doc["seq"] < old[1]["seq"] - 1000:  # restarts
                self._latest[alcove] = (time.monotonic(), doc)
            self.received += 1

    def poll(self, now: float) -> tuple[list, list[Event]]:
        return [], []  # everything arrives as features: see fill_frame

    def fill_frame(self, frame: Frame) -> None:
        """Called by the show after signals: put every Alcove's latest state into the frame."""
        wall = time.monotonic()
        with self._lock:
            for a in [a for a, (t, _) in self._latest.items() if wall - t >= self.left_after]:
                del self._latest[a]
            self.last_snapshot = {a: (wall - t, doc) for a, (t, doc) in self._latest.items()}
        self.state.apply(frame, self.last_snapshot)
