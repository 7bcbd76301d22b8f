"""LSL with real pylsl outlets and inlets, discovery confined to this machine."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from engine.sources import open_source
from engine.sources.lsl import MACHINE_CONFIG, pylsl  # the module sets LSLAPICFG, then loads pylsl


def test_the_machine_scope_config_is_loaded():
    assert os.environ["LSLAPICFG"] == str(MACHINE_CONFIG)
    text = MACHINE_CONFIG.read_text()
    for line in ("ResolveScope = machine", "AddressesOverride = {127.0.0.1}", "TTLOverride = 0",
                 "IPv6 = disable"):
        assert line in text


def _udp_listeners(port: int) -> set[str]:
    """Local addresses with a UDP socket bound to `port` (from /proc/net/udp)."""
    found = set()
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        local = line.split()[1]
        addr, p = local.split(":")
        if int(p, 16) == port:
            found.add(".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


@pytest.fixture(scope="module")
def outlets():
    ecg = pylsl.StreamOutlet(pylsl.StreamInfo("p01/ecg", "ECG", 1, 250, "float32", "symphony-test-ecg"))
    info = pylsl.StreamInfo("p02", "Physio", 2, 100, "float32", "symphony-test-physio")
    chans = info.desc().append_child("channels")
    for label in ("PPG", "Resp"):
        chans.append_child("channel").append_child_value("label", label)
    physio = pylsl.StreamOutlet(info)
    markers = pylsl.StreamOutlet(pylsl.StreamInfo("ops", "Markers", 1, 0, "string", "symphony-test-m"))
    yield ecg, physio, markers


def test_discovery_only_listens_on_loopback(outlets):
    # the outlets' discovery responders: with machine scope, on 127.0.0.1 only
    assert _udp_listeners(16571) == {"127.0.0.1"}


def test_streams_map_to_participants_and_arrive_with_lsl_timestamps(outlets):
    ecg, physio, markers = outlets
    src = open_source("lsl://?timeout=1.5")
    with src:
        assert len(src.inlets) >= 3
        src.poll(0.0)
        x = (np.arange(50, dtype=np.float32) / 100.0).reshape(-1, 1)
        stamp = pylsl.local_clock()
        ecg.push_chunk(x, stamp)
        physio.push_chunk(np.hstack([x, 2 * x]))
        markers.push_sample(['{"kind": "operator", "action": "lights down"}'])
        got, events, start = [], [], time.monotonic()
        # the marker stream is a separate inlet: wait for it as well as for the samples
        while (sum(c.v.size for c in got) < 150 or not events) and time.monotonic() - start < 10:
            chunks, evs = src.poll(time.monotonic() - start)
            got += chunks
            events += evs
            time.sleep(0.02)
        by = {(c.participant, c.channel): c for c in got}
        # other programs on this machine may offer streams too (machine scope): ours must all be there
        assert {("p01", "ecg"), ("p02", "ppg"), ("p02", "respiration")} <= set(by)
        np.testing.assert_array_equal(by[("p02", "respiration")].v, 2 * x[:, 0])
        c = by[("p01", "ecg")]
        # clock-synchronised LSL time, mapped to show time: the last sample is the pushed stamp
        assert c.t[-1] + c.source_offset == pytest.approx(stamp, abs=1e-3)
        assert [e.kind for e in events] == ["operator"]


def test_name_or_type_selects_streams(outlets):
    with open_source("lsl://ECG?timeout=1.0") as src:
        assert {i.map[0] for i in src.inlets.values()} == {("p01", "ecg")}
    with open_source("lsl://p02?timeout=1.0") as src:
        assert [i.map for i in src.inlets.values()] == [[("p02", "ppg"), ("p02", "respiration")]]
