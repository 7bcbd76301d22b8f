"""`symphony network init DIR --alcoves a1,a2`: everything a stock Mosquitto needs.

    DIR/ca/ca.crt, ca.key            the network's own CA (its key stays here)
    DIR/hub/mosquitto.conf           TLS listener, passwords, ACL, persistence
    DIR/hub/read.url                 the source spec scenes read the city from
    DIR/<alcove>/mosquitto.conf      127.0.0.1 listener + TLS bridge to the hub, QoS 1, queued
    DIR/<alcove>/publish.url         the spec `relay` / `show --publish` write features to

Each config runs as is: `mosquitto -c DIR/hub/mosquitto.conf`. Paths in them are absolute
(Mosquitto reads relative paths from its working folder). Password files hold Mosquitto's
own PBKDF2-SHA512 format, written here (no `mosquitto_passwd` needed). Every Alcove's hub
account may write only `owl/<alcove>/#`; the reader account may read only `owl/+/features`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import pwd
import secrets
from dataclasses import dataclass
from pathlib import Path

from engine.data import ALCOVE_ID
from engine.network.certs import make_ca, make_server_cert

QUEUE = 100_000  # messages a venue broker holds for the hub: 2.7 h of features at 10 Hz
READER = "reader"


class NetworkError(ValueError):
    """A network set-up the user can fix; the message is shown as is."""


def password_line(user: str, password: str, iterations: int = 101) -> str:
    """A Mosquitto 2 password-file line: `user:$7$iterations$salt$PBKDF2-SHA512`."""
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"{user}:$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@dataclass
class Plan:
    folder: Path
    alcoves: list[str]
    hub_host: str = "127.0.0.1"
    hub_bind: str = "127.0.0.1"
    hub_port: int = 8883
    local_port: int = 1884  # Alcove i listens on local_port + i (one machine can run them all)


def _check(plan: Plan) -> None:
    if not plan.alcoves:
        raise NetworkError("give at least one Alcove: --alcoves a1,a2")
    for a in plan.alcoves:
        if not ALCOVE_ID.fullmatch(a) or a in ("hub", "ca"):
            raise NetworkError(f"Alcove id '{a}' must be 1-32 letters, digits, '-' or '_' (not hub/ca)")
    if len(set(plan.alcoves)) != len(plan.alcoves):
        raise NetworkError("an Alcove id is given twice")
    ports = [plan.hub_port] + [plan.local_port + i for i in range(len(plan.alcoves))]
    if not all(0 < p < 65536 for p in ports) or len(set(ports)) != len(ports):
        raise NetworkError("ports must be distinct and between 1 and 65535")
    if plan.folder.exists() and any(plan.folder.iterdir()):
        raise NetworkError(f"{plan.folder} is not empty; give a new folder")


def _write(path: Path, text: str, secret: bool = False) -> None:
    path.write_text(text)
    path.chmod(0o600 if secret else 0o644)


def init_network(plan: Plan) -> dict[str, Path]:
    """Write the network; returns {name: config path} for the hub and every Alcove."""
    _check(plan)
    root = plan.folder.resolve()
    hub = root / "hub"
    hub.mkdir(parents=True)
    (hub / "data").mkdir()
    ca_crt, ca_key = make_ca(root / "ca")
    hosts = list(dict.fromkeys([plan.hub_host, "127.0.0.1", "localhost"]))
    crt, key = make_server_cert(ca_crt, ca_key, hub, hosts)
    _write(hub / "ca.crt", ca_crt.read_text())
    passwords = {a: secrets.token_urlsafe(18) for a in [*plan.alcoves, READER]}
    _write(hub / "passwd", "".join(password_line(u, p) + "\n" for u, p in passwords.items()), secret=True)
    acl = [f"user {READER}", "topic read owl/+/features", ""]
    for a in plan.alcoves:
        acl += [f"user {a}", f"topic write owl/{a}/#", ""]
    _write(hub / "acl", "\n".join(acl))
    _write(hub / "mosquitto.conf", "\n".join([
        "# Oral Wellness Network hub: run with  mosquitto -c " + str(hub / "mosquitto.conf"),
        "per_listener_settings false",
        f"listener {plan.hub_port} {plan.hub_bind}",
        f"cafile {hub / 'ca.crt'}", f"certfile {crt}", f"keyfile {key}", "tls_version tlsv1.2",
        "allow_anonymous false", f"password_file {hub / 'passwd'}", f"acl_file {hub / 'acl'}",
        "persistence true", f"persistence_location {hub / 'data'}/", "autosave_interval 5",
        f"max_queued_messages {QUEUE}", "max_queued_bytes 0", "max_inflight_messages 100",
        "log_dest stderr", "log_type error", "log_type warning", "log_type notice", ""]))
    _write(hub / "read.url", f"mqtt://{READER}:{passwords[READER]}@{plan.hub_host}:{plan.hub_port}"
                             f"/owl/+/features?ca={hub / 'ca.crt'}\n", secret=True)
    configs = {"hub": hub / "mosquitto.conf"}
    for i, a in enumerate(plan.alcoves):
        configs[a] = _alcove(root / a, a, i, plan, ca_crt, passwords[a])
    _own(root)
    return configs


def _alcove(folder: Path, alcove: str, index: int, plan: Plan, ca_crt: Path, hub_password: str) -> Path:
    folder.mkdir()
    (folder / "data").mkdir()
    _write(folder / "ca.crt", ca_crt.read_text())
    local = secrets.token_urlsafe(18)
    port = plan.local_port + index
    _write(folder / "passwd", password_line(alcove, local) + "\n", secret=True)
    _write(folder / "acl", f"user {alcove}\ntopic readwrite owl/{alcove}/#\n")
    conf = folder / "mosquitto.conf"
    _write(conf, "\n".join([
        f"# Alcove {alcove}: run with  mosquitto -c {conf}",
        "per_listener_settings false",
        f"listener {port} 127.0.0.1",
        "allow_anonymous false", f"password_file {folder / 'passwd'}", f"acl_file {folder / 'acl'}",
        "persistence true", f"persistence_location {folder / 'data'}/", "autosave_interval 5",
        f"max_queued_messages {QUEUE}", "max_queued_bytes 0", "max_inflight_messages 100",
        "log_dest stderr", "log_type error", "log_type warning", "log_type notice", "",
        f"connection owl-{alcove}", f"address {plan.hub_host}:{plan.hub_port}",
        "bridge_protocol_version mqttv311", f"bridge_cafile {folder / 'ca.crt'}", "bridge_insecure false",
        f"remote_username {alcove}", f"remote_password {hub_password}", f"remote_clientid owl-{alcove}",
        f"local_clientid owl-{alcove}-bridge", "cleansession false", "local_cleansession false",
        "try_private true", "notifications false", "restart_timeout 1 10", "keepalive_interval 15",
        f"topic owl/{alcove}/# out 1", ""]), secret=True)  # it holds the hub password
    _write(folder / "publish.url", f"mqtt://{alcove}:{local}@127.0.0.1:{port}/owl/{alcove}/features\n",
           secret=True)
    return conf


def _own(root: Path) -> None:
    """Started as root, Mosquitto drops to the `mosquitto` user: it must read these files."""
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam("mosquitto")
    except KeyError:
        return
    for path in [root, *root.rglob("*")]:
        if path.parent.name == "ca" and path.name == "ca.key":
            continue
        os.chown(path, user.pw_uid, user.pw_gid)
    closed = [p for p in root.parents if not p.stat().st_mode & 0o001]
    if closed:
        import logging

        logging.getLogger("symphony").warning(
            "the mosquitto user cannot enter %s: run the brokers as another user or pick a folder "
            "outside it", closed[0])
