"""The Oral Wellness Network on 127.0.0.1 with real Mosquitto processes from the generated
configs: bridged features reach the hub, ACLs, passwords and TLS hold, a hub outage loses
nothing, and the hub's read URL fills frame.alcoves for wellness_network."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from engine.data import Frame, Group, Participant
from engine.network.client import connect, make_client, parse_url
from engine.network.features import MESSAGE_KEYS, PARTICIPANT_KEYS, check_message
from engine.network.publisher import FeaturePublisher
from engine.network.setup import NetworkError, Plan, init_network, password_line
from engine.network.up import Network, wait_port
from tests.conftest import ROOT, run_cli
from tests.network_util import Reader, make_network, wait_for


@pytest.fixture(scope="module")
def net_dir():
    folder = make_network()
    yield folder
    shutil.rmtree(folder.parent, ignore_errors=True)


@pytest.fixture
def own_net():
    folder = make_network()
    yield folder
    shutil.rmtree(folder.parent, ignore_errors=True)


def url(folder: Path, name: str) -> str:
    return (folder / name / ("read.url" if name == "hub" else "publish.url")).read_text().strip()


@pytest.fixture(scope="module")
def network_up(net_dir):
    """`symphony network up DIR` as a user runs it; Ctrl-C (SIGINT) stops it cleanly."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_symphony.py"), "network", "up", str(net_dir)],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    ports = [parse_url(url(net_dir, n)).port for n in ("hub", "a1", "a2")]
    assert all(wait_port("127.0.0.1", p, 20) for p in ports), "network up did not start every broker"
    yield net_dir
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0
    time.sleep(0.2)
    assert not any(wait_port("127.0.0.1", p, 0.3) for p in ports), "a broker outlived network up"


def frame_of(n: int, t: float = 0.0) -> Frame:
    people = [Participant(f"p{i}", i, {"heart_rate": 60.0 + i, "saliva_ph": 7.0}, {"ecg": 0.3}, 0.0, 3,
                          0.5, 0.1 * i, 12.0, heart_rate=60.0 + i, eda_tonic=2.0) for i in range(n)]
    return Frame(0, t, 0.1, people, [], Group(count=n, present=n, synchrony=0.5, mean_phase=1.0))


def test_generated_files(net_dir):
    hub = (net_dir / "hub" / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in hub and "certfile" in hub and "listener" in hub
    a1 = (net_dir / "a1" / "mosquitto.conf").read_text()
    for line in ("topic owl/a1/# out 1", "cleansession false", "max_queued_messages 100000", "bridge_cafile",
                 "persistence true"):
        assert line in a1
    assert (net_dir / "hub" / "acl").read_text().count("topic write owl/a1/#") == 1
    assert oct((net_dir / "a1" / "publish.url").stat().st_mode & 0o777) == "0o600"
    assert "$7$101$" in password_line("u", "p")
    with pytest.raises(NetworkError):
        init_network(Plan(net_dir, ["a3"]))  # not empty
    r = run_cli("network", "init", str(net_dir.parent / "bad"), "--alcoves", "a 1")
    assert r.returncode == 2 and "Alcove id" in r.stderr


def test_features_reach_hub_acl_password_and_tls(network_up):
    folder = network_up
    reader = Reader(url(folder, "hub"))
    try:
        assert wait_for(lambda: reader.subscribed, 10)
        pub = FeaturePublisher(url(folder, "a1"))
        for k in range(5):
            pub.publish(frame_of(3, 0.1 * k))
        pub.close()
        assert wait_for(lambda: len(reader.got) >= 5, 10), "features did not reach the hub"
        docs = [check_message(p) for _, p in reader.got]
        assert [d["seq"] for d in docs] == list(range(5)) and docs[0]["alcove"] == "a1"
        assert {t for t, _ in reader.got} == {"owl/a1/features"}

        # a1's hub account: may write owl/a1/#, never owl/a2/#
        hub = parse_url(url(folder, "hub"))
        a1_pw = next(line.split()[1] for line in (folder / "a1" / "mosquitto.conf").read_text().splitlines()
                     if line.startswith("remote_password"))
        direct = make_client(parse_url(f"mqtt://a1:{a1_pw}@127.0.0.1:{hub.port}/x?ca={hub.ca}"))
        connect(direct, parse_url(f"mqtt://a1:{a1_pw}@127.0.0.1:{hub.port}/x?ca={hub.ca}"), retry=False)
        before = len(reader.got)
        direct.publish("owl/a2/features", b'{"forged": 1}', qos=1).wait_for_publish(5)
        direct.publish("owl/a1/features", b'{"marker": 1}', qos=1).wait_for_publish(5)
        assert wait_for(lambda: len(reader.got) > before, 10)
        time.sleep(0.5)
        assert [t for t, _ in reader.got[before:]] == ["owl/a1/features"], "a1 wrote into owl/a2"
        direct.disconnect()
        direct.loop_stop()

        # a wrong password is refused
        bad = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        bad.username_pw_set("a1", "wrong-password")
        bad.tls_set(ca_certs=hub.ca)
        assert bad.connect("127.0.0.1", hub.port) == 0
        codes = []
        bad.on_connect = lambda _c, _u, _f, reason, _p: codes.append(reason)
        for _ in range(50):
            bad.loop(0.1)
            if codes:
                break
        assert codes and codes[0].is_failure
        # a plain (non-TLS) connection to the hub gets no MQTT session
        plain = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        plain.username_pw_set("reader", hub.password)
        ok = []
        plain.on_connect = lambda *_: ok.append(True)
        try:
            plain.connect("127.0.0.1", hub.port)
            for _ in range(20):
                plain.loop(0.1)
        except (OSError, ssl.SSLError):
            pass
        assert not ok, "the hub accepted a plain-text connection"
    finally:
        reader.close()


def test_relay_to_network_source_fills_alcoves(network_up):
    """Two real relay processes publish; the hub's read URL gives wellness_network both Alcoves."""
    from engine.clock import RealtimeClock
    from engine.runtime import Show
    from engine.scene import create_scene
    from engine.sources import open_source

    folder = network_up
    relays = [subprocess.Popen([sys.executable, str(ROOT / "run_symphony.py"), "relay", "--source",
                                f"synthetic:participants={n},seed={n}", "--publish",
                                f"@{folder / a / 'publish.url'}", "--seconds", "60"],
                               cwd=ROOT, stderr=subprocess.PIPE, text=True)
              for a, n in (("a1", 3), ("a2", 5))]
    try:
        src = open_source(url(folder, "hub"))
        assert type(src).__name__ == "NetworkSource"
        scene = create_scene("wellness_network")
        with src:
            show = Show(scene, src, RealtimeClock(), live=True)
            ok = wait_for(lambda: (f := show.advance()) is not None and set(f.alcoves) == {"a1", "a2"}
                          and f.alcoves["a1"].count == 3 and f.alcoves["a2"].count == 5
                          and all(math.isfinite(p.heart_rate) for p in f.participants), 25)
            frame = show.last_frame
            # raw data sent under the features topic is rejected by the schema, counted, never used
            raw = make_client(parse_url(url(folder, "a1")))
            connect(raw, parse_url(url(folder, "a1")), retry=False)
            raw.publish("owl/a1/features", json.dumps({"ecg": [0.1, 0.2, 0.3]}), qos=1).wait_for_publish(5)
            raw.disconnect()
            raw.loop_stop()
            assert wait_for(lambda: src.rejects.rejected >= 1, 10), src.rejects.counts
        assert ok, ({k: g.count for k, g in frame.alcoves.items()}, [p.heart_rate for p in frame.participants])  # noqa: E501
        assert not show.errors
        assert len(frame.participants) == 8 and {p.alcove for p in frame.participants} == {"a1", "a2"}
        assert all(math.isfinite(p.heart_rate) for p in frame.participants)
        assert len(scene.clusters) == 2  # the scene seated both Alcoves
    finally:
        for r in relays:  # a service manager's stop: the relay flushes and exits cleanly
            r.send_signal(signal.SIGTERM)
        for r in relays:
            _, err = r.communicate(timeout=30)
            assert r.returncode == 0, err
    assert "published" in err


def test_hub_outage_20s_loses_nothing(own_net):
    """Hub killed (SIGKILL) for 20 s while a1 publishes 200 messages: all arrive, in order."""
    net_dir = own_net
    net = Network(net_dir)
    net.start_all()
    reader = None
    try:
        reader = Reader(url(net_dir, "hub"), client_id="outage-reader", clean=False)
        assert wait_for(lambda: reader.subscribed, 10)
        time.sleep(6)  # the hub's autosave (5 s) has the reader's session on disk
        pub = FeaturePublisher(url(net_dir, "a1"))
        net.stop("hub", kill=True)
        down = time.monotonic()
        for k in range(200):
            pub.publish(frame_of(2, 0.1 * k))
            time.sleep(0.1)
        assert not reader.client.is_connected()
        time.sleep(max(0.0, 20 - (time.monotonic() - down)))
        outage = time.monotonic() - down
        net.start("hub")
        back = time.monotonic()
        assert wait_for(lambda: len([1 for t, _ in reader.got if t == "owl/a1/features"]) >= 200, 60)
        drained = time.monotonic() - back
        pub.close()
        time.sleep(0.5)
        seqs = [json.loads(p)["seq"] for t, p in reader.got if t == "owl/a1/features"]
        first = list(dict.fromkeys(seqs))  # QoS 1 is at-least-once: a redelivery may repeat one
        # nothing lost; a bridge redelivering its in-flight window after the reconnect may swap
        # neighbours (seen once in CI: 15 before 14), which the hub source absorbs (newest seq wins)
        assert sorted(first) == list(range(200)), sorted(set(range(200)) - set(first))[:20]
        swapped = [(i, s) for i, s in enumerate(first) if s != i]
        assert all(abs(i - s) <= 100 for i, s in swapped), swapped[:20]  # within the in-flight window
        duplicates = len(seqs) - len(first)
        print(f"outage {outage:.1f} s, 200/200 delivered in order {drained:.1f} s after the hub returned "
              f"({duplicates} redelivered twice)")
        if duplicates:
            print("duplicates:", [s for s, n in Counter(seqs).items() if n > 1])
    finally:
        if reader is not None:
            reader.close()
        net.stop_all()


def test_publish_topic_checked(net_dir):
    from engine.sources import SourceError

    with pytest.raises(SourceError):
        FeaturePublisher(url(net_dir, "a1").replace("/features", "/raw"))


def test_schema_rejects_raw_data():
    from engine.network.features import FeatureError

    good = json.loads(json.dumps({k: None for k in MESSAGE_KEYS}))
    good.update(v=1, alcove="a1", seq=0, t=1.0, count=0, present=0, participants={})
    check_message(json.dumps(good).encode())
    entry = {k: None for k in PARTICIPANT_KEYS} | {"present": True, "stale": False}
    for bad in ({**good, "ecg": [0.1, 0.2]}, {**good, "participants": {"alice": entry}},
                {**good, "participants": {"k0123456789ab": {**entry, "heart_rate": [60, 61]}}}):
        with pytest.raises(FeatureError):
            check_message(json.dumps(bad).encode())
    assert os.environ.get("NOPE") is None


def test_render_publishes_features(network_up, tmp_path):
    """`render --publish @publish.url`: features at 10 Hz of show time reach the hub."""
    folder = network_up
    reader = Reader(url(folder, "hub"))
    try:
        assert wait_for(lambda: reader.subscribed, 10)
        r = run_cli("render", "chorus_alcove", "-o", str(tmp_path / "x.mkv"), "--seconds", "1", "--size",
                    "64x36", "--source", "synthetic:participants=4", "--no-progress",
                    "--publish", f"@{folder / 'a2' / 'publish.url'}")
        assert r.returncode == 0, r.stderr
        assert wait_for(lambda: len(reader.got) >= 10, 10), len(reader.got)
        time.sleep(0.5)
        docs = [check_message(p) for _, p in reader.got]
        assert [d["seq"] for d in docs] == list(range(10)) and {d["alcove"] for d in docs} == {"a2"}
        assert all(d["count"] == 4 for d in docs[3:])
    finally:
        reader.close()


def test_venue_show_publishes_features(network_up, x_display, tmp_path):
    """`show --venue V --publish @publish.url` in a real window: the venue's features reach the hub."""
    folder = network_up
    venue = tmp_path / "v.toml"
    venue.write_text("[[output]]\nname = 'main'\nsize = [64, 36]\n")
    reader = Reader(url(folder, "hub"))
    try:
        assert wait_for(lambda: reader.subscribed, 10)
        r = run_cli("show", "chorus_alcove", "--venue", str(venue), "--seconds", "2", "--no-vsync",
                    "--source", "synthetic:participants=3", "--publish", f"@{folder / 'a1' / 'publish.url'}",
                    env={"DISPLAY": x_display})
        assert r.returncode == 0, r.stderr
        assert wait_for(lambda: len(reader.got) >= 10, 10), len(reader.got)
        docs = [check_message(p) for _, p in reader.got]
        assert [d["seq"] for d in docs] == list(range(len(docs))) and docs[-1]["count"] == 3
    finally:
        reader.close()


def test_network_up_stops_its_brokers_on_sigterm(own_net):
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_symphony.py"), "network", "up", str(own_net)],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    ports = [parse_url(url(own_net, n)).port for n in ("hub", "a1", "a2")]
    assert all(wait_port("127.0.0.1", p, 20) for p in ports)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    time.sleep(0.2)
    assert not any(wait_port("127.0.0.1", p, 0.3) for p in ports), "a broker outlived network up"
