"""Helpers for the network tests: free ports, a reader at the hub, waiting."""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from pathlib import Path

import pytest

from engine.network.client import connect, make_client, parse_url
from tests.conftest import run_cli


def need_mosquitto() -> None:
    import os

    if shutil.which("mosquitto") is None and not os.path.exists("/usr/sbin/mosquitto"):
        if os.environ.get("CI"):
            pytest.fail("mosquitto is not installed")
        pytest.skip("mosquitto is not installed")


def free_ports(count: int) -> int:
    """A base port such that base .. base+count-1 are free on 127.0.0.1, below the ephemeral
    range (a bridge's outgoing connection could otherwise take a port before its broker)."""
    import random

    low, high = 20000, 32000
    try:
        low_eph = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
        high = min(high, low_eph)
    except (OSError, ValueError, IndexError):
        pass
    for _ in range(200):
        base = random.randrange(low, high - count)
        try:
            for p in range(base, base + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
    raise RuntimeError("no run of free ports")


class Reader:
    """A subscriber: every (topic, payload) it receives, in order."""

    def __init__(self, url: str, topic: str | None = None, client_id: str = "", clean: bool = True) -> None:
        self.url = parse_url(url)
        self.topic = topic or self.url.topic
        self.got: list[tuple[str, bytes]] = []
        self.refused: list[str] = []
        self.subscribed = False
        self.client = make_client(self.url, client_id=client_id, clean=clean)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: setattr(self, "subscribed", True)
        self.client.on_message = lambda _c, _u, m: self.got.append((m.topic, bytes(m.payload)))
        connect(self.client, self.url)

    def _on_connect(self, c, _u, _flags, reason, _props) -> None:
        if reason.is_failure:
            self.refused.append(str(reason))
        else:
            c.subscribe(self.topic, qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_for(cond, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def make_network() -> Path:
    """`symphony network init` into a new folder, on free ports."""
    need_mosquitto()
    # not pytest's tmp_path: started as root, mosquitto drops to its own user, who must enter it
    top = Path(tempfile.mkdtemp(prefix="symphony-owl-"))
    top.chmod(0o755)
    folder = top / "owl"
    hub, local = free_ports(1), free_ports(2)
    r = run_cli("network", "init", str(folder), "--alcoves", "a1,a2", "--hub-port", str(hub),
                "--local-port", str(local))
    assert r.returncode == 0, r.stderr
    return folder
