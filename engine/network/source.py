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

import math
import threading
import time

import numpy as np

from engine.data import Event, Frame, Group, Participant
from engine.network.client import MqttUrl, connect, make_client
from engine.network.features import FeatureError, alcove_of, check_message
from engine.sources.base import Source
from engine.sources.intake import Rejects

BEAT_DECAY = 0.12
VALUE_KEYS = ("heart_rate", "breath_rate", "eda_tonic", "saliva_ph", "oral_temp", "bacterial_load", "biofilm")


class _Member:
    def __init__(self, slot: int) -> None:
        self.slot, self.heart = slot, 0.0
        self.last_beat, self.beats = -math.inf, 0


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
        self._members: dict[str, _Member] = {}
        self._free = list(range(max_participants))
        self._last_t: float | None = None
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
        """Called by the show after signals: put every Alcove's state into the frame."""
        wall = time.monotonic()
        with self._lock:
            for a in [a for a, (t, _) in self._latest.items() if wall - t >= self.left_after]:
                del self._latest[a]
            latest = dict(self._latest)
        dt = frame.dt if self._last_t is not None else 0.0
        self._last_t = frame.t
        seen: set[str] = set()
        people: list[Participant] = []
        for alcove in sorted(latest):
            arrival, doc = latest[alcove]
            age = wall - arrival
            stale_all = age >= self.stale_after
            members = []
            for key, f in doc["participants"].items():
                pid = f"{alcove}-{key}"
                p = self._participant(pid, alcove, f, age, stale_all, frame.t, dt)
                if p is not None:
                    seen.add(pid)
                    members.append(p)
            people += members
            frame.alcoves[alcove] = self._group(members, doc, age)
        for pid in [pid for pid in self._members if pid not in seen]:
            self._free.append(self._members.pop(pid).slot)
        self._free.sort()
        frame.participants = people
        frame.group = _overall(people)

    def _participant(self, pid: str, alcove: str, f: dict, age: float, stale_all: bool, t: float,
                     dt: float) -> Participant | None:
        m = self._members.get(pid)
        if m is None:
            if not self._free:
                self.rejects.add("participant_cap")
                return None
            m = self._members[pid] = _Member(self._free.pop(0))
        values = {k: float(f[k]) for k in VALUE_KEYS if f.get(k) is not None}
        hr, br = values.get("heart_rate", math.nan), values.get("breath_rate", math.nan)
        if math.isfinite(hr):  # beats re-made locally from the heart rate
            m.heart += dt * hr / 60.0
            if m.heart >= 1.0:
                m.heart %= 1.0
                m.last_beat, m.beats = t, m.beats + 1
        phase = f.get("breath_phase")
        if phase is not None and math.isfinite(br):
            phase = (phase + 2.0 * math.pi * br / 60.0 * min(age, self.stale_after)) % (2.0 * math.pi)
        stale = stale_all or bool(f["stale"])
        return Participant(id=pid, slot=m.slot, values=values, raw={},
                           beat=math.exp(-max(t - m.last_beat, 0.0) / BEAT_DECAY), beats=m.beats,
                           breath=math.cos(phase) if phase is not None else 0.0,
                           breath_phase=phase if phase is not None else 0.0,
                           breath_rate=br, heart_rate=hr, eda_tonic=values.get("eda_tonic", math.nan),
                           stale=stale, alcove=alcove, last_seen=t - age)

    @staticmethod
    def _group(members: list[Participant], doc: dict, age: float) -> Group:
        g = _overall(members)
        g.count = doc["count"]
        g.present = 0 if members and all(p.stale for p in members) else doc["present"]
        if doc["synchrony"] is not None:
            g.synchrony = doc["synchrony"]
        if doc["mean_phase"] is not None:
            rate = g.mean.get("breath_rate", 0.0)
            g.mean_phase = (doc["mean_phase"] + 2.0 * math.pi * rate / 60.0 * min(age, 3.0)) % (2.0 * math.pi)
        return g


def _overall(people: list[Participant]) -> Group:
    """Presence, channel means and spreads, and breathing synchrony of a set of participants."""
    g = Group(count=len(people))
    present = [p for p in people if not p.stale]
    g.present = len(present)
    if len(present) >= 2:
        z = np.exp(1j * np.array([p.breath_phase for p in present])).mean()
        g.synchrony, g.mean_phase = float(abs(z)), float(np.angle(z) % (2 * np.pi))
    for name in sorted({n for p in present for n in p.values}):
        vals = np.array([p.values[name] for p in present if name in p.values])
        g.mean[name], g.spread[name] = float(vals.mean()), float(vals.std())
    return g
