"""OSC over UDP: `osc://HOST:PORT` (e.g. from a phone app, TouchDesigner, or a sensor hub).

Address `/alcove/<alcove>/p/<participant>/<channel>`, arguments: one or more numbers, the
samples. An optional leading int argument followed by floats gives their rate in Hz
(`,iffff 250 …`). Sample times: the enclosing bundle's time tag is the first sample's time;
without a bundle (or with the "immediately" tag) the arrival time is the last sample's.
Several samples without a rate are spaced by the interval learned from the stream's previous
messages (1/250 s until there is one). Receiving runs in a child process (see `worker`).

Hostile input never costs valid data: each datagram gets its own, strictly increasing arrival
time (so unbundled samples drained in one wake-up are not duplicates of each other); times
outside ±`time_window` seconds of the receiver's clock are `bad_timestamp`; a packet of more
than `MAX_MESSAGES` messages is `oversize` before it is decoded; each sender may spend at
most `sender_share` of the receiver's time decoding (a token bucket of seconds), beyond which
its datagrams are dropped undecoded as `overload`, so one abusive sender cannot starve the
others; and the socket is drained for at most `DRAIN_SECONDS` before a batch is shipped.
"""

from __future__ import annotations

import math
import select
import socket
import time

import numpy as np

from engine.data import valid_participant_id
from engine.sources.base import SourceError
from engine.sources.budget import Budget
from engine.sources.intake import Intake, Rejects
from engine.sources.oscwire import IMMEDIATE, OscError, OscMessage, OscOversize, ntp_to_unix, parse_packet
from engine.sources.worker import Batcher, Output, Stopping, WorkerSource

SO_RCVBUFFORCE = 33  # Linux: root may exceed net.core.rmem_max
DEFAULT_INTERVAL = 1.0 / 250.0
MAX_PACKET = 65536
TIME_WINDOW = 86400.0  # plausible sample times: the receiver's clock ± a day
DRAIN_SECONDS = 0.02  # drain the socket at most this long before shipping a batch
MAX_ROUTES, MAX_ROUTE_LEN = 8192, 160  # addresses remembered as valid (ids are at most 32 characters)


class OscSource(WorkerSource):
    kind = "osc"
    worker_kind = "osc"
    options = {"host": str, "port": int, "rcvbuf": int, "max_participants": int, "time_window": float,
               "sender_share": float}
    description = "OSC over UDP: osc://127.0.0.1:9000, address /alcove/<alcove>/p/<participant>/<channel>"

    def __init__(self, host: str = "127.0.0.1", port: int = 9000, rcvbuf: int = 32 << 20,
                 max_participants: int = 256, time_window: float = TIME_WINDOW,
                 sender_share: float = 0.25) -> None:
        if not 0 <= port <= 65535:
            raise SourceError("source 'osc': port must be between 0 and 65535")
        if not (time_window > 0 and 0 < sender_share <= 1):
            raise SourceError("source 'osc': time_window must be > 0 and sender_share in (0, 1]")
        super().__init__()
        self.host, self.port, self.rcvbuf, self.max_participants = host, port, rcvbuf, max_participants
        self.time_window, self.sender_share = time_window, sender_share

    def config(self) -> dict:
        return {"host": self.host, "port": self.port, "rcvbuf": self.rcvbuf,
                "max_participants": self.max_participants, "time_window": self.time_window,
                "sender_share": self.sender_share}

    @property
    def bound_port(self) -> int:
        return int(self.info.get("port", self.port))


class Decoder:
    """OSC messages → validated chunks (unix-clock times), counting what is rejected."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self.rejects = intake.rejects
        self._streams: dict[tuple[str, str], tuple[float, int, float]] = {}  # last t0, n, interval
        self._routes: dict[str, tuple[str, str, str]] = {}

    def packet(self, data: bytes, arrival: float) -> list:
        if len(data) > MAX_PACKET:
            self.rejects.add("oversize")
            return []
        try:
            messages = parse_packet(data)
        except OscOversize:
            self.rejects.add("oversize")
            return []
        except OscError:
            self.rejects.add("malformed")
            return []
        out: list = []
        for msg in messages:
            out += self.message(msg, arrival)
        return out

    def _route(self, address: str) -> tuple[str, str, str] | None:
        """(alcove, participant, channel) of an address, or None (counted `bad_address`). Valid
        routes are cached: a stream sends the same address thousands of times a minute."""
        parts = address.split("/")
        if len(parts) != 6 or parts[1] != "alcove" or parts[3] != "p" or not valid_participant_id(parts[2]):
            self.rejects.add("bad_address")  # the alcove reaches files and topics: the id rule
            return None
        route = (parts[2], parts[4], parts[5])
        if len(address) <= MAX_ROUTE_LEN:  # a valid one fits; a 65,000-character one is not kept
            if len(self._routes) >= MAX_ROUTES:  # an id flood: start over rather than grow
                self._routes.clear()
            self._routes[address] = route
        return route

    def message(self, msg: OscMessage, arrival: float) -> list:
        route = self._routes.get(msg.address) or self._route(msg.address)
        if route is None:
            return []
        alcove, pid, channel = route
        if not self.intake.admit(pid, channel):
            return []
        rate = 0.0
        args, tags = msg.args, msg.tags
        if isinstance(args, np.ndarray):  # oscwire's numeric fast path: floats, or the rate then floats
            if tags[0] == "i":
                rate, args = float(args[0]), args[1:]
        elif len(tags) > 1 and tags[0] == "i" and all(c in "fdih" for c in tags[1:]):
            rate, args = float(args[0]), args[1:]
        elif not tags or any(c not in "fdih" for c in tags):
            self.rejects.add("wrong_type")
            return []
        if rate and not (0.0 < rate <= 100_000.0):
            self.rejects.add("malformed", len(args))
            return []
        v = np.asarray(args, dtype=np.float64)
        n = v.size
        key = (pid, channel)
        last = self._streams.get(key)
        timed = msg.timetag != IMMEDIATE
        t_ref = ntp_to_unix(msg.timetag) if timed else arrival
        if rate:
            dt = 1.0 / rate
        elif last is not None and timed and n > 0 and last[1] > 0 and t_ref > last[0]:
            dt = (t_ref - last[0]) / last[1]  # learned from the previous message's span
        else:
            dt = last[2] if last is not None else DEFAULT_INTERVAL
        if len(self._streams) < 65536 or key in self._streams:
            self._streams[key] = (t_ref, n, dt)
        if n == 1:
            t = np.array([t_ref])
        else:
            steps = np.arange(n, dtype=np.float64) * dt
            t = t_ref + steps if timed else t_ref - steps[::-1]
        return self.intake.add(pid, channel, t, v, alcove=alcove, arrival=arrival, admitted=True)


def open_socket(host: str, port: int, rcvbuf: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    for opt in (SO_RCVBUFFORCE, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, opt, rcvbuf)
            break
        except OSError:
            continue
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


def run_receiver(config: dict, out: Output) -> None:
    """Child process: drain the socket, decode, batch, ship; until told to stop."""
    sock = open_socket(config["host"], config["port"], config["rcvbuf"])
    rejects = Rejects("osc", quiet=True)
    intake = Intake(rejects, max_participants=config["max_participants"],
                    time_window=config.get("time_window", TIME_WINDOW))
    decoder = Decoder(intake)
    senders = Budget(config.get("sender_share", 0.25))
    batch = Batcher(out, rejects)
    out.send("ready", {"port": sock.getsockname()[1],
                       "rcvbuf": sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)})
    buf = bytearray(MAX_PACKET + 1)
    view = memoryview(buf)
    state = {"arrival": 0.0}
    clock = time.perf_counter

    def drain(seconds: float) -> bool:
        """Receive and decode for at most `seconds`; True if the socket ran dry."""
        start = clock()
        while clock() - start < seconds:
            try:
                n, sender = sock.recvfrom_into(buf)
            except BlockingIOError:
                return True
            # per datagram, strictly increasing: unbundled samples never share a time
            state["arrival"] = arrival = max(time.time(), state["arrival"] + 1e-6)
            if not senders.allowed(sender, clock()):
                rejects.add("overload")
                continue
            cpu = time.thread_time()  # CPU, not wall time: being descheduled costs no budget
            batch.add(decoder.packet(bytes(view[:n]), arrival))
            senders.spent(sender, time.thread_time() - cpu)
        return False

    while not Stopping.requested:
        wait_out = [out.fd] if out.backlog else []
        readable, writable, _ = select.select([sock], wait_out, [], batch.due() or 0.005)
        if readable:
            drain(DRAIN_SECONDS)
        if writable:
            out.pump()
        batch.flush()
        if not math.isfinite(batch.due()):
            break
    deadline = clock() + 1.0  # stopping: what the socket already holds is data too
    while clock() < deadline and not drain(DRAIN_SECONDS):
        batch.flush(force=True)
    batch.flush(force=True)  # everything received goes out
    sock.close()
