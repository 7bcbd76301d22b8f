"""A paho client from an `mqtt://user:pass@host:port/topic?ca=...` URL (the network's specs)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from engine.options import to_bool
from engine.sources.base import SourceError
from engine.sources.spec import parse_spec


@dataclass
class MqttUrl:
    host: str
    port: int
    topic: str
    username: str = ""
    password: str = ""
    ca: str = ""
    tls: bool = False

    def __repr__(self) -> str:  # never show the password
        return f"MqttUrl({self.host}:{self.port}/{self.topic}, user={self.username!r}, tls={self.tls})"


def parse_url(url: str, default_topic: str = "") -> MqttUrl:
    kind, opts = parse_spec(url)
    if kind != "mqtt":
        raise SourceError(f"expected an mqtt:// URL, got '{kind}://...'")
    unknown = set(opts) - {"host", "port", "topic", "username", "password", "ca", "tls"}
    if unknown:
        raise SourceError(f"mqtt URL: unknown option(s) {', '.join(sorted(unknown))} (known: ca, tls)")
    ca = opts.get("ca", "")
    if ca and not os.path.isfile(ca):
        raise SourceError(f"mqtt URL: CA file {ca} does not exist")
    tls = bool(ca) or to_bool(opts.get("tls", "0"))
    try:
        port = int(opts.get("port", 8883 if tls else 1883))
    except ValueError:
        raise SourceError("mqtt URL: the port must be a number") from None
    return MqttUrl(opts.get("host", "127.0.0.1"), port, opts.get("topic", default_topic),
                   opts.get("username", ""), opts.get("password", ""), ca, tls)


def make_client(url: MqttUrl, client_id: str = "", clean: bool = True):
    """A paho MQTT 3.1.1 client set up for `url` (not yet connected)."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         clean_session=clean, protocol=mqtt.MQTTv311)
    if url.username:
        client.username_pw_set(url.username, url.password or None)
    if url.tls:
        client.tls_set(ca_certs=url.ca or None)
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)  # unbounded: while the local broker is away nothing is dropped
    client.reconnect_delay_set(1, 10)
    return client


def connect(client, url: MqttUrl, timeout: float = 10.0, retry: bool = True) -> None:
    """Start the client's network thread and connect (retrying in the background if `retry`)."""
    if retry:
        client.connect_async(url.host, url.port, keepalive=30)
        client.loop_start()
        return
    client.connect(url.host, url.port, keepalive=30)
    client.loop_start()
    deadline = time.monotonic() + timeout
    while not client.is_connected():
        if time.monotonic() > deadline:
            client.loop_stop()
            raise ConnectionError(f"no MQTT connection to {url.host}:{url.port}")
        time.sleep(0.01)
