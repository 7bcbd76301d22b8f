"""MQTT: `mqtt://[user:pass@]HOST:PORT/TOPIC-FILTER[?tls=1&ca=PATH]` (paho-mqtt).

Topics `owl/<alcove>/<participant>/<channel>`; JSON payloads, either one sample
`{"t": unix_seconds, "v": value}` or a chunk `{"t0": unix_seconds, "rate": hz, "v": [..]}`
(`t`/`t0` may be left out: the arrival time is used). The client runs in a child process
(see `worker`) and reconnects with exponential backoff (1 s doubling to 30 s) after any
disconnect. Credentials are never logged, recorded or echoed in errors.
"""

from __future__ import annotations

import json
import math
import os
import select
import time

import numpy as np

from engine.sources.base import SourceError
from engine.sources.intake import Intake, Rejects
from engine.sources.worker import Batcher, Output, WorkerSource

MAX_PAYLOAD = 1 << 20
BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0


class MqttError(ValueError):
    """A message to reject; the argument is the reason."""


def parse_message(topic: str, payload: bytes, arrival: float) -> tuple[str, str, str, np.ndarray, np.ndarray]:
    """(alcove, participant, channel, times, values) of one message, or MqttError(reason)."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != "owl":
        raise MqttError("bad_address")
    if len(payload) > MAX_PAYLOAD:
        raise MqttError("oversize")
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MqttError("malformed") from None
    if not isinstance(doc, dict) or "v" not in doc:
        raise MqttError("malformed")
    v = doc["v"]
    if isinstance(v, list):
        rate = doc.get("rate")
        if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 < rate <= 100_000:
            raise MqttError("malformed")
        t0 = doc.get("t0", None)
        values = v
        steps = np.arange(len(values), dtype=np.float64) / float(rate)
        t = arrival - steps[::-1] if t0 is None else _time(t0) + steps
    else:
        t = np.array([_time(doc["t"]) if "t" in doc else arrival])
        values = [v]
    try:
        arr = np.array(values)
    except (ValueError, TypeError):
        raise MqttError("wrong_type") from None
    if arr.dtype.kind not in "fiu" or (b"true" in payload or b"false" in payload) and any(
            isinstance(x, bool) for x in values):
        raise MqttError("wrong_type")
    return parts[1], parts[2], parts[3], t, arr


def _time(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MqttError("bad_timestamp")
    return float(value)


class MqttSource(WorkerSource):
    kind = "mqtt"
    worker_kind = "mqtt"
    options = {"host": str, "port": int, "topic": str, "username": str, "password": str, "tls": bool,
               "ca": str, "client_id": str, "qos": int, "max_participants": int}
    description = "MQTT: mqtt://[user:pass@]127.0.0.1:1883/owl/#[?tls=1&ca=ca.pem], JSON payloads"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, topic: str = "owl/#", username: str = "",
                 password: str = "", tls: bool = False, ca: str = "", client_id: str = "", qos: int = 1,
                 max_participants: int = 256) -> None:
        if not 0 <= port <= 65535:
            raise SourceError("source 'mqtt': port must be between 0 and 65535")
        if qos not in (0, 1, 2):
            raise SourceError("source 'mqtt': qos must be 0, 1 or 2")
        if ca and not os.path.isfile(ca):
            raise SourceError(f"source 'mqtt': CA file {ca} does not exist")
        super().__init__()
        self._config = {"host": host, "port": port or (8883 if tls else 1883), "topic": topic,
                        "username": username, "password": password, "tls": bool(tls or ca), "ca": ca,
                        "client_id": client_id or f"symphony-{os.getpid()}", "qos": qos,
                        "max_participants": max_participants}

    def config(self) -> dict:
        return self._config

    @property
    def connected(self) -> bool:
        return bool(self.status.get("subscribed"))


def _pump(client, timeout: float) -> int:
    """One round of network I/O. paho's own `loop()` reads one packet per call (each behind a
    select); this drains everything the socket holds before returning."""
    import paho.mqtt.client as mqtt

    sock = client.socket()
    if sock is None:
        return mqtt.MQTT_ERR_NO_CONN
    wlist = [sock] if client.want_write() else []
    pending = sock.pending() if hasattr(sock, "pending") else 0
    readable, writable, _ = select.select([sock], wlist, [], 0.0 if pending else timeout)
    rc = mqtt.MQTT_ERR_SUCCESS
    for _ in range(10000):
        if not (readable or pending):
            break
        rc = client.loop_read()
        if rc != mqtt.MQTT_ERR_SUCCESS or client.socket() is None:
            return rc or mqtt.MQTT_ERR_CONN_LOST
        pending = sock.pending() if hasattr(sock, "pending") else 0
        readable = select.select([sock], [], [], 0.0)[0]
    if writable or client.want_write():
        rc = client.loop_write()
        if rc != mqtt.MQTT_ERR_SUCCESS:
            return rc
    return client.loop_misc()


def run_receiver(config: dict, out: Output) -> None:
    """Child process: the paho client loop, decoding, batching, reconnecting with backoff."""
    import paho.mqtt.client as mqtt

    rejects = Rejects("mqtt", quiet=True)
    intake = Intake(rejects, max_participants=config["max_participants"])
    batch = Batcher(out, rejects)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=config["client_id"],
                         protocol=mqtt.MQTTv311)
    if config["username"]:
        client.username_pw_set(config["username"], config["password"] or None)
    if config["tls"]:
        client.tls_set(ca_certs=config["ca"] or None)
    state = {"backoff": BACKOFF_MIN, "retry_at": 0.0, "connected": False}

    def on_connect(c, _u, _flags, reason, _props):
        if reason.is_failure:
            out.send("status", {"subscribed": False, "refused": True,
                                "message": f"broker refused the connection ({reason})"})
            return
        state["backoff"] = BACKOFF_MIN
        out.send("status", {"refused": False})
        c.subscribe(config["topic"], qos=config["qos"])

    def on_subscribe(_c, _u, _mid, reasons, _props):
        ok = all(not r.is_failure for r in reasons)
        out.send("status", {"subscribed": ok, "message": "subscribed" if ok else "subscription refused"})

    def on_disconnect(_c, _u, _flags, reason, _props):
        state["connected"] = False
        out.send("status", {"subscribed": False, "message": f"disconnected ({reason}); reconnecting"})

    def on_message(_c, _u, msg):
        arrival = time.time()
        try:
            alcove, pid, channel, t, values = parse_message(msg.topic, msg.payload, arrival)
        except MqttError as exc:
            rejects.add(str(exc))
            return
        batch.add(intake.add(pid, channel, t, values, alcove=alcove, arrival=arrival))

    client.on_connect, client.on_subscribe = on_connect, on_subscribe
    client.on_disconnect, client.on_message = on_disconnect, on_message
    out.send("ready", {"host": config["host"], "port": config["port"]})
    while True:
        if not state["connected"] and time.monotonic() >= state["retry_at"]:
            try:
                client.connect(config["host"], config["port"], keepalive=30)
                state["connected"] = True
            except (OSError, ValueError) as exc:
                state["retry_at"] = time.monotonic() + state["backoff"]
                why = f"cannot connect ({exc.__class__.__name__}); retrying in {state['backoff']:.0f} s"
                out.send("status", {"subscribed": False, "message": why})
                state["backoff"] = min(BACKOFF_MAX, state["backoff"] * 2)
        if state["connected"]:
            rc = _pump(client, min(batch.due() or 0.002, 0.005))
            if rc != mqtt.MQTT_ERR_SUCCESS and state["connected"]:
                state["connected"] = False
                state["retry_at"] = time.monotonic() + state["backoff"]
                state["backoff"] = min(BACKOFF_MAX, state["backoff"] * 2)
        else:
            select.select([], [out.fd] if out.backlog else [], [], 0.05)
        out.pump()
        batch.flush()
