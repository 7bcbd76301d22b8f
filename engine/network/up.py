"""`symphony network up DIR`: run every broker of a network on this machine (demos, tests).

Each broker is the stock `mosquitto -c DIR/<name>/mosquitto.conf`, its log in
DIR/<name>/mosquitto.log. Ctrl-C stops them all cleanly (SIGTERM: queues are saved).
"""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

log = logging.getLogger("symphony")


class BrokerStartError(RuntimeError):
    pass


def listener_port(conf: Path) -> tuple[str, int]:
    for line in conf.read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["listener"] and len(parts) >= 2:
            return (parts[2] if len(parts) > 2 else "127.0.0.1"), int(parts[1])
    raise BrokerStartError(f"{conf} has no listener")


def wait_port(host: str, port: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host if host != "0.0.0.0" else "127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            if proc is not None and proc.poll() is not None:
                return False
            time.sleep(0.05)
    return False


class Network:
    """The brokers of one network folder, started and stopped by name ('hub', 'a1', ...)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).resolve()
        names = sorted(p.parent.name for p in self.folder.glob("*/mosquitto.conf"))
        if "hub" not in names:
            raise BrokerStartError(f"{self.folder} holds no network (run 'symphony network init' first)")
        self.names = ["hub"] + [n for n in names if n != "hub"]
        self.exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.procs: dict[str, subprocess.Popen] = {}

    def conf(self, name: str) -> Path:
        return self.folder / name / "mosquitto.conf"

    def start(self, name: str, timeout: float = 10.0) -> None:
        conf = self.conf(name)
        logfile = open(conf.parent / "mosquitto.log", "ab")  # noqa: SIM115 - the child keeps it
        proc = subprocess.Popen([self.exe, "-c", str(conf)], stdout=logfile, stderr=subprocess.STDOUT)
        logfile.close()
        self.procs[name] = proc
        host, port = listener_port(conf)
        if not wait_port(host, port, timeout, proc):
            self.stop(name)
            tail = (conf.parent / "mosquitto.log").read_text(errors="replace").strip().splitlines()[-1:]
            raise BrokerStartError(f"mosquitto for {name} did not start: {tail[0] if tail else 'no log'}")

    def stop(self, name: str, kill: bool = False) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def start_all(self) -> None:
        try:
            for name in self.names:
                self.start(name)
        except BaseException:
            self.stop_all()
            raise

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)

    def __enter__(self) -> Network:
        self.start_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def terminate_as_interrupt() -> None:
    """SIGTERM (a service manager, `timeout`, `kill`) stops as cleanly as Ctrl-C: brokers with it."""
    def handler(_sig, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def run_network(folder: str | Path, seconds: float | None = None) -> None:
    """Start every broker, report where they listen, run until Ctrl-C (or `seconds`)."""
    try:
        with Network(folder) as net:
            for name in net.names:
                host, port = listener_port(net.conf(name))
                log.info("%s: mosquitto listening on %s:%d", name, host, port)
            log.info("hub read URL: %s", (net.folder / "hub" / "read.url"))
            start = time.monotonic()
            while seconds is None or time.monotonic() - start < seconds:
                for name, proc in list(net.procs.items()):
                    if proc.poll() is not None:
                        log.error("%s: mosquitto exited (%d); see %s", name, proc.returncode,
                                  net.folder / name / "mosquitto.log")
                        net.procs.pop(name)
                time.sleep(0.5)
    except KeyboardInterrupt:  # the brokers are stopped on the way out of the `with`
        log.info("stopped the network")
