"""MQTT against a real Mosquitto on 127.0.0.1: passwords, TLS, reconnecting, and bad payloads."""

from __future__ import annotations

import json
import logging
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.sources import SourceFatal, open_source
from engine.sources.mqtt import MqttError, parse_message
from tests.conftest import start_broker

USERS = {"alcove-hub": "s3cret-Pass"}


@pytest.fixture(scope="module")
def broker():
    b = start_broker(users=USERS)
    yield b
    b.stop()


def publisher(port: int, tls_ca=None, user="alcove-hub", password="s3cret-Pass"):
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.username_pw_set(user, password)
    if tls_ca:
        c.tls_set(ca_certs=str(tls_ca))
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def wait_connected(src, timeout=15.0) -> None:
    start = time.monotonic()
    while not src.connected:
        src.poll(time.monotonic() - start)
        assert time.monotonic() - start < timeout, "never subscribed"
        time.sleep(0.02)


def drain(src, want: int, timeout: float = 15.0):
    got, start = [], time.monotonic()
    while sum(c.v.size for c in got) < want and time.monotonic() - start < timeout:
        chunks, _ = src.poll(time.monotonic() - start)
        got += chunks
        time.sleep(0.02)
    return got


def test_password_broker_single_samples_chunks_and_bad_payloads(broker):
    src = open_source(f"mqtt://alcove-hub:s3cret-Pass@127.0.0.1:{broker.port}/owl/#")
    with src:
        wait_connected(src)
        pub = publisher(broker.port)
        now = time.time()
        pub.publish("owl/a2/p05/heart_rate", json.dumps({"t": now, "v": 64.5}), qos=1)
        pub.publish("owl/a2/p05/ecg", json.dumps({"t0": now, "rate": 250, "v": [0.1, 0.2, 0.3, 0.4]}), qos=1)
        for topic, payload in (("owl/a2/p05/ecg", "{not json"), ("owl/a2/p05/ecg/extra", "{}"),
                               ("owl/a2/p05/ecg", json.dumps({"t": now, "v": "high"})),
                               ("owl/a2/p05/ecg", json.dumps({"t": now, "v": [1, 2]})),
                               ("owl/a2/p05/ecg", "[" * 2_000_000)):
            pub.publish(topic, payload, qos=1)
        chunks = drain(src, 5)
        pub.loop_stop()
        hr = [c for c in chunks if c.channel == "heart_rate"][0]
        assert hr.v.tolist() == [64.5] and hr.t[0] + hr.source_offset == pytest.approx(now)
        ecg = [c for c in chunks if c.channel == "ecg"][0]
        np.testing.assert_allclose(ecg.t + ecg.source_offset, now + np.arange(4) / 250.0)
        np.testing.assert_array_equal(ecg.v, np.float32([0.1, 0.2, 0.3, 0.4]))
        assert ecg.alcove == "a2"
        deadline = time.monotonic() + 5
        while src.rejects.rejected < 5 and time.monotonic() < deadline:
            src.poll(10.0)
            time.sleep(0.05)
        assert src.rejects.counts == {"malformed": 2, "bad_address": 1, "wrong_type": 1, "oversize": 1}


def test_wrong_password_is_refused_and_never_logged(broker, caplog):
    with caplog.at_level(logging.INFO):
        src = open_source(f"mqtt://alcove-hub:not-the-password@127.0.0.1:{broker.port}/owl/#")
        with src:
            deadline = time.monotonic() + 5
            with pytest.raises(SourceFatal, match="refused the login"):  # final: no reconnect storm
                while time.monotonic() < deadline:
                    src.poll(0.0)
                    time.sleep(0.05)
            assert src.status.get("refused") and not src.connected and src.fatal
            assert src.poll(0.1) == ([], [])  # given up: not respawned
    assert "not-the-password" not in caplog.text and "s3cret" not in caplog.text


def test_tls_with_a_private_ca():
    b = start_broker(users=USERS, tls=True)
    try:
        src = open_source(f"mqtt://alcove-hub:s3cret-Pass@127.0.0.1:{b.port}/owl/+/p09/#?tls=1&ca={b.ca}")
        with src:
            wait_connected(src)
            pub = publisher(b.port, tls_ca=b.ca)
            pub.publish("owl/a1/p09/eda", json.dumps({"v": 4.25}), qos=1)  # no time: the arrival time
            pub.publish("owl/a1/p10/eda", json.dumps({"v": 9.0}), qos=1)  # filtered out by the topic
            chunks = drain(src, 1)
            pub.loop_stop()
            assert [(c.participant, c.v.tolist()) for c in chunks] == [("p09", [4.25])]
            assert abs(chunks[0].t[0] - chunks[0].arrival) < 1e-6
    finally:
        b.stop()


def test_reconnects_with_backoff_after_the_broker_restarts():
    b = start_broker()
    port = b.port
    src = open_source(f"mqtt://127.0.0.1:{port}/owl/#")
    with src:
        wait_connected(src)
        b.stop()
        deadline = time.monotonic() + 5
        while src.connected and time.monotonic() < deadline:
            src.poll(0.0)
            time.sleep(0.05)
        assert not src.connected
        b = start_broker(port=port)
        wait_connected(src, timeout=40.0)
        pub = publisher(port, user=None, password=None)
        pub.publish("owl/a1/p01/heart_rate", json.dumps({"v": 71}), qos=1)
        assert [c.v.tolist() for c in drain(src, 1)] == [[71.0]]
        pub.loop_stop()
    b.stop()


scalars = st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=5))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.sampled_from(["t", "t0", "v", "rate", "x"]), inner, max_size=4), max_leaves=12)


@settings(max_examples=500, deadline=None, database=None)
@given(topic=st.one_of(st.text(max_size=30), st.just("owl/a1/p01/ecg")),
       payload=st.one_of(st.binary(max_size=60), json_values.map(lambda v: json.dumps(v).encode())))
def test_parser_accepts_only_well_formed_messages(topic, payload):
    try:
        alcove, pid, channel, t, v = parse_message(topic, payload, arrival=1.0)
    except MqttError as exc:
        assert str(exc) in {"bad_address", "oversize", "malformed", "wrong_type", "bad_timestamp"}
        return
    assert t.shape == v.shape and np.all(np.isfinite(t))
    assert all(isinstance(x, float | int) and not isinstance(x, bool) for x in v.tolist())
