"""Start a private Mosquitto broker on 127.0.0.1 (for tests, benchmarks and rehearsals).

`Broker` writes a config into a temporary folder: one listener on 127.0.0.1 and a free port,
optionally a password file (made with `mosquitto_passwd`) and a TLS listener with a
self-signed CA and server certificate (made with `openssl`, SAN IP:127.0.0.1).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class BrokerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1, signed by it: (ca.crt, server.crt, server.key)."""
    ca_key, ca, key, csr, crt = (folder / n for n in ("ca.key", "ca.crt", "server.key", "server.csr",
                                                        "server.crt"))
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=symphony-test-ca",
        "-keyout", str(ca_key), "-out", str(ca))
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(key),
        "-out", str(csr))
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-days", "2", "-extfile", str(ext), "-out", str(crt))
    return ca, crt, key


class Broker:
    def __init__(self, users: dict[str, str] | None = None, tls: bool = False, port: int = 0) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(exe).exists():
            raise BrokerError("mosquitto is not installed (apt-get install mosquitto)")
        self.dir = Path(tempfile.mkdtemp(prefix="symphony-mqtt-"))
        self.port = port or free_port()
        lines = [f"listener {self.port} 127.0.0.1", "max_queued_messages 0", "persistence false"]
        if users:
            pw = self.dir / "passwd"
            pw.touch()
            for user, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(pw), user, password], check=True,
                               capture_output=True)
            lines += ["allow_anonymous false", f"password_file {pw}"]
        else:
            lines.append("allow_anonymous true")
        self.ca: Path | None = None
        if tls:
            self.ca, crt, key = make_certificates(self.dir)
            lines += [f"cafile {self.ca}", f"certfile {crt}", f"keyfile {key}"]
        conf = self.dir / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n")
        # started as root, mosquitto drops to the 'mosquitto' user, which must read these files
        self.dir.chmod(0o755)
        for f in self.dir.iterdir():
            f.chmod(0o644)
        self.log = open(self.dir / "log.txt", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([exe, "-c", str(conf)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.log.flush()
                    lines = (self.dir / "log.txt").read_text(errors="replace").strip().splitlines()
                    self.stop()
                    why = lines[-1] if lines else "no log"
                    raise BrokerError(f"mosquitto did not start ({why})") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
