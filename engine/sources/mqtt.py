"""MQTT: `mqtt://[user:pass@]HOST:PORT/TOPIC-FILTER[?tls=1&ca=PATH]` (paho-mqtt).

Topics `owl/<alcove>/<participant>/<channel>`; JSON payloads, either one sample
`{"t": unix_seconds, "v": value}` or a chunk `{"t0": unix_seconds, "rate": hz, "v": [..]}`
(`t`/`t0` may be left out: the arrival time is used). The client runs in a child process
(see `worker`) and reconnects with exponential backoff (1 s doubling to 30 s) after any
disconnect. Credentials are never logged, recorded or echoed in errors, and reach the child
through its stdin, never its command line.

Hostile input: `parse_message` is total (any payload is a sample or a reason; integers of any
size, NaN, deep nesting included); times outside ±`time_window` of the receiver's clock are
`bad_timestamp`; arrays longer than `MAX_ARRAY` are `oversize`; each topic may spend at most
`topic_share` of the receiver's time (payloads beyond it are dropped undecoded as `overload`);
the socket is drained for at most `DRAIN_SECONDS` between batches. A refused login, a TLS
handshake that fails, or a broker that closes `MAX_SILENT` connections in a row without
answering (a plaintext client on a TLS port) is final: one clear error, no reconnect storm.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import select
import time

import numpy as np

from engine.sources.base import SourceError
from engine.sources.budget import Budget
from engine.sources.intake import Intake, Rejects
from engine.sources.worker import Batcher, Fatal, Output, Stopping, WorkerSource

MAX_PAYLOAD = 1 << 20
MAX_ARRAY = 65536
BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0
TIME_WINDOW = 86400.0
DRAIN_SECONDS = 0.02
MAX_SILENT = 3
AUTH_REFUSED = (4, 5, 134, 135)  # bad user name or password, not authorised (MQTT 3.1.1 and 5)


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
        if len(v) > MAX_ARRAY:
            raise MqttError("oversize")
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
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MqttError("bad_timestamp")
    try:
        t = float(value)  # a 400-digit integer overflows here
    except OverflowError:
        raise MqttError("bad_timestamp") from None
    if not math.isfinite(t):
        raise MqttError("bad_timestamp")
    return t


class MqttSource(WorkerSource):
    kind = "mqtt"
    worker_kind = "mqtt"
    options = {"host": str, "port": int, "topic": str, "username": str, "password": str, "tls": bool,
               "ca": str, "client_id": str, "qos": int, "max_participants": int, "time_window": float,
               "topic_share": float}
    description = "MQTT: mqtt://[user:pass@]127.0.0.1:1883/owl/#[?tls=1&ca=ca.pem], JSON payloads"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, topic: str = "owl/#", username: str = "",
                 password: str = "", tls: bool = False, ca: str = "", client_id: str = "", qos: int = 1,
                 max_participants: int = 256, time_window: float = TIME_WINDOW,
                 topic_share: float = 0.25) -> None:
        if not 0 <= port <= 65535:
            raise SourceError("source 'mqtt': port must be between 0 and 65535")
        if qos not in (0, 1, 2):
            raise SourceError("source 'mqtt': qos must be 0, 1 or 2")
        if not (time_window > 0 and 0 < topic_share <= 1):
            raise SourceError("source 'mqtt': time_window must be > 0 and topic_share in (0, 1]")
        if ca and not os.path.isfile(ca):
            raise SourceError(f"source 'mqtt': CA file {ca} does not exist")
        super().__init__()
        self._config = {"host": host, "port": port or (8883 if tls else 1883), "topic": topic,
                        "username": username, "password": password, "tls": bool(tls or ca), "ca": ca,
                        "client_id": client_id or f"symphony-{os.getpid()}", "qos": qos,
                        "max_participants": max_participants, "time_window": time_window,
                        "topic_share": topic_share}

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
    start = time.perf_counter()
    while time.perf_counter() - start < DRAIN_SECONDS:  # then ship a batch, whatever is queued
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
    import ssl

    import paho.mqtt.client as mqtt

    rejects = Rejects("mqtt", quiet=True)
    intake = Intake(rejects, max_participants=config["max_participants"],
                    time_window=config.get("time_window", TIME_WINDOW))
    batch = Batcher(out, rejects)
    topics = Budget(config.get("topic_share", 0.25))
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=config["client_id"],
                         protocol=mqtt.MQTTv311)
    if config["username"]:
        client.username_pw_set(config["username"], config["password"] or None)
    if config["tls"]:
        client.tls_set(ca_certs=config["ca"] or None)
    # link: a socket is open; answered: the broker sent CONNACK on it; silent: links closed unanswered
    state = {"backoff": BACKOFF_MIN, "retry_at": 0.0, "link": False, "answered": False, "silent": 0,
             "fatal": "", "arrival": 0.0}

    def on_connect(c, _u, _flags, reason, _props):
        state["answered"], state["silent"] = True, 0
        if reason.is_failure:
            out.send("status", {"subscribed": False, "refused": True,
                                "message": f"broker refused the connection ({reason})"})
            if reason.value in AUTH_REFUSED:
                state["fatal"] = f"the broker refused the login ({reason}): check user and password"
            return
        state["backoff"] = BACKOFF_MIN
        out.send("status", {"refused": False})
        c.subscribe(config["topic"], qos=config["qos"])

    def on_subscribe(_c, _u, _mid, reasons, _props):
        ok = all(not r.is_failure for r in reasons)
        out.send("status", {"subscribed": ok, "message": "subscribed" if ok else "subscription refused"})

    def on_disconnect(_c, _u, _flags, reason, _props):  # the pump sees the closed link and backs off
        out.send("status", {"subscribed": False, "message": f"disconnected ({reason}); reconnecting"})

    def on_message(_c, _u, msg):
        cpu = time.thread_time()  # CPU, not wall time: being descheduled costs no budget
        if not topics.allowed(msg.topic, time.perf_counter()):
            rejects.add("overload")
            return
        state["arrival"] = arrival = max(time.time(), state["arrival"] + 1e-6)  # distinct, ordered
        try:
            alcove, pid, channel, t, values = parse_message(msg.topic, msg.payload, arrival)
            batch.add(intake.add(pid, channel, t, values, alcove=alcove, arrival=arrival))
        except MqttError as exc:
            rejects.add(str(exc))
        except Exception:  # noqa: BLE001 - a decoder bug must cost one message, not the receiver
            rejects.add("decoder_error")
        topics.spent(msg.topic, time.thread_time() - cpu)

    def closed() -> None:
        """The link is gone: count an unanswered one, and wait the backoff before the next."""
        state["link"] = False
        if not state["answered"]:
            state["silent"] += 1
            if state["silent"] >= MAX_SILENT:
                state["fatal"] = (f"the broker closed {MAX_SILENT} connections without answering "
                                  "(a TLS port without ?tls=1, or not an MQTT broker)")
        state["retry_at"] = time.monotonic() + state["backoff"]
        state["backoff"] = min(BACKOFF_MAX, state["backoff"] * 2)

    client.on_connect, client.on_subscribe = on_connect, on_subscribe
    client.on_disconnect, client.on_message = on_disconnect, on_message
    out.send("ready", {"host": config["host"], "port": config["port"]})
    while not Stopping.requested:
        if state["fatal"]:
            raise Fatal(state["fatal"])
        if not state["link"] and time.monotonic() >= state["retry_at"]:
            state["answered"] = False
            try:
                client.connect(config["host"], config["port"], keepalive=30)
                state["link"] = True
            except (OSError, ValueError) as exc:
                if isinstance(exc, ssl.SSLCertVerificationError):
                    raise Fatal(f"TLS handshake with the broker failed ({exc.reason})") from None
                if isinstance(exc, ssl.SSLError) or config["tls"] and isinstance(
                        exc, ConnectionResetError | ConnectionAbortedError):  # a handshake cut short
                    state["silent"] += 1
                    if state["silent"] >= MAX_SILENT:
                        raise Fatal(f"TLS handshake with the broker failed {MAX_SILENT} times in a row "
                                    f"({exc.__class__.__name__}; a plaintext port?)") from None
                state["retry_at"] = time.monotonic() + state["backoff"]
                why = f"cannot connect ({exc.__class__.__name__}); retrying in {state['backoff']:.0f} s"
                out.send("status", {"subscribed": False, "message": why})
                state["backoff"] = min(BACKOFF_MAX, state["backoff"] * 2)
        if state["link"]:
            rc = _pump(client, min(batch.due() or 0.002, 0.005))
            if rc != mqtt.MQTT_ERR_SUCCESS:
                closed()
        else:
            select.select([], [out.fd] if out.backlog else [], [], 0.05)
        out.pump()
        batch.flush()
    deadline = time.monotonic() + 1.0  # stopping: what the socket already holds is data too
    while state["link"] and time.monotonic() < deadline:
        before = state["arrival"]
        if _pump(client, 0.0) != mqtt.MQTT_ERR_SUCCESS or state["arrival"] == before:
            break
    batch.flush(force=True)  # everything received goes out
    with contextlib.suppress(Exception):
        client.disconnect()
