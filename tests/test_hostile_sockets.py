"""Every source kind listens on loopback only: read from /proc/net for the processes that
receive (the OSC and MQTT receiver children, and the engine's own process for LSL) (issue #15)."""

from __future__ import annotations

import json
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


ENGINE = """
import json, sys, time
from engine.sources import open_source
from tests.test_hostile_sockets import listening
sources = [open_source(spec) for spec in sys.argv[1:]]
for src in sources:
    src.start()
start, got = time.monotonic(), {}
while time.monotonic() - start < 3.0:  # a few seconds of a show: rescans, clock sync, receiving
    for src in sources:
        got[src.kind] = got.get(src.kind, 0) + sum(c.v.size for c in src.poll(time.monotonic() - start)[0])
    time.sleep(0.02)
socks = {"engine": listening()}
for src in sources:
    if getattr(src, "_proc", None) is not None:
        socks[src.kind] = listening(src._proc.pid)
print(json.dumps({"socks": socks, "got": got}))
for src in sources:
    src.stop()
"""


def test_every_source_kind_listens_on_loopback_only_in_the_engines_processes(tmp_path):
    """One engine process with a source of every kind running at once (an LSL outlet in another
    process, made with the engine's config; on main the inlet's clock sync bound UDP 0.0.0.0)."""
    pytest.importorskip("pylsl")
    from engine.sources.lsl import MACHINE_CONFIG

    root = Path(__file__).resolve().parents[1]
    csv = tmp_path / "r.csv"
    csv.write_text("time,p01/eda\n" + "".join(f"{k / 10},{5 + k % 3}\n" for k in range(100)))
    broker = start_broker()
    code = ("import pylsl, time; o = pylsl.StreamOutlet(pylsl.StreamInfo('p01/eda', 'eda', 1, 10, "
            "pylsl.cf_float32, 'hostile-sockets'))\n"
            "for _ in range(1500): o.push_sample([1.0]); time.sleep(0.01)")
    env = {**os.environ, "LSLAPICFG": str(MACHINE_CONFIG), "PYTHONPATH": str(root)}
    outlet = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        specs = ["synthetic:participants=4", f"replay:{csv}", "osc://127.0.0.1:0",
                 f"mqtt://127.0.0.1:{broker.port}/owl/#", "lsl://p01"]
        run = subprocess.run([sys.executable, "-c", ENGINE, *specs], capture_output=True, text=True,
                             env=env, cwd=root, timeout=120)
        assert run.returncode == 0, run.stderr
        doc = json.loads(run.stdout.splitlines()[-1])
        assert doc["got"]["lsl"] > 0 and doc["got"]["synthetic"] > 0 and doc["socks"]["osc"]
        off = {who: [s for s in socks if s[1] not in LOOPBACK] for who, socks in doc["socks"].items()}
        assert not any(off.values()), off
    finally:
        outlet.kill()
        outlet.wait()
        broker.stop()
