"""Every source kind listens on loopback only: read from /proc/net for the processes that
receive (the OSC and MQTT receiver children, and the engine's own process for LSL) (issue #15)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.sources import open_source
from tests.conftest import start_broker

LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1 as /proc/net spells them


def listening(pid: int | str = "self") -> list[tuple[str, str, int]]:
    """(protocol, local address in /proc/net hex, port) of each listening TCP and bound UDP socket."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    out = []
    for proto in ("tcp", "udp", "tcp6", "udp6"):
        for line in Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]:
            parts = line.split()
            addr, port = parts[1].split(":")
            if parts[9] in inodes and (proto.startswith("udp") or parts[3] == "0A"):  # 0A: LISTEN
                out.append((proto, addr, int(port, 16)))
    return out


def test_the_osc_receiver_binds_loopback_only():
    src = open_source("osc://127.0.0.1:0")
    with src:
        socks = listening(src._proc.pid)
        assert socks and all(addr in LOOPBACK for _, addr, _ in socks), socks


def test_the_mqtt_receiver_listens_nowhere():
    broker = start_broker()
    try:
        src = open_source(f"mqtt://127.0.0.1:{broker.port}/owl/#")
        with src:
            start = time.monotonic()
            while not src.connected and time.monotonic() - start < 15:
                src.poll(0.0)
                time.sleep(0.02)
            assert src.connected and listening(src._proc.pid) == []
    finally:
        broker.stop()


def test_lsl_inlets_open_no_listening_tcp_socket_off_loopback():
    pylsl = pytest.importorskip("pylsl")
    from engine.sources.lsl import MACHINE_CONFIG, LslSource

    code = ("import pylsl, time; o = pylsl.StreamOutlet(pylsl.StreamInfo('p01/eda', 'eda', 1, 10, "
            "pylsl.cf_float32, 'hostile-sockets'))\n"
            "for _ in range(200): o.push_sample([1.0]); time.sleep(0.02)")
    env = {**os.environ, "LSLAPICFG": str(MACHINE_CONFIG)}
    outlet = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        src = LslSource(timeout=2.0)
        src.start()
        assert src.inlets and pylsl.local_clock() > 0
        tcp = [s for s in listening() if s[0].startswith("tcp")]
        assert all(addr in LOOPBACK for _, addr, _ in tcp), tcp
        src.stop()
    finally:
        outlet.kill()
        outlet.wait()
