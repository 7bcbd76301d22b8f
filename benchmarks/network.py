"""Network benchmark: K Alcoves × 64 participants at 10 Hz, each through its own bridged
Mosquitto (TLS, QoS 1) to one hub, on loopback.

    python3 benchmarks/network.py --json [--ks 10,50,100] [--seconds 8]

For each K: `network init` + every broker started (K venue brokers + hub); a publisher
process keeps one paho client per venue broker and sends one features message per Alcove per
tick (64 participants, JSON, as `FeaturePublisher` builds it); this process subscribes at the
hub as the reader. Reported: delivered feature updates/s (participants × messages), loss
(sent − received, after a drain), p50/p99 latency from the venue publish to the hub
subscriber, and broker CPU (hub, and all venue brokers together, % of one core). Baseline in
the same run: the same load published straight into one plain broker (no bridge, no TLS).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.data import Frame, Group, Participant  # noqa: E402
from engine.network.client import make_client, parse_url  # noqa: E402
from engine.network.features import Pseudonyms, build_message, encode  # noqa: E402
from engine.network.setup import Plan, init_network  # noqa: E402
from engine.network.up import Network  # noqa: E402
from tests.mosquitto import Broker  # noqa: E402

PER_ALCOVE, RATE = 64, 10.0
TICK = os.sysconf("SC_CLK_TCK")


def template(alcove: str) -> dict:
    people = [Participant(f"p{i:02d}", i, {"heart_rate": 64.0, "saliva_ph": 6.9, "oral_temp": 36.6,
                                           "bacterial_load": 0.3, "biofilm": 0.2}, {}, 0.0, 0, 0.2,
                          1.234 + i, 13.5, heart_rate=64.0 + i / 10, eda_tonic=3.21)
              for i in range(PER_ALCOVE)]
    frame = Frame(0, 0.0, 0.1, people, [], Group(PER_ALCOVE, 0.8, 2.1, present=PER_ALCOVE))
    return build_message(frame, alcove, 0, 0.0, Pseudonyms(b"bench"))


def publisher(urls: list[str], seconds: float, out) -> None:
    """One client per venue broker; every tick one message per Alcove; reports how many."""
    clients, docs = [], []
    for u in urls:
        url = parse_url(u)
        c = make_client(url, client_id=f"bench-{url.topic}")
        c.connect(url.host, url.port, keepalive=30)
        c.loop_start()
        clients.append((c, url.topic))
        docs.append(template(url.topic.split("/")[1]))
    while not all(c.is_connected() for c, _ in clients):
        time.sleep(0.01)
    out.put("ready")
    start, sent, late = time.perf_counter(), 0, 0
    ticks = int(seconds * RATE)
    for k in range(ticks):
        for (c, topic), doc in zip(clients, docs, strict=True):
            doc["seq"], doc["t"] = k, time.time()
            c.publish(topic, encode(doc), qos=1)
            sent += 1
        ahead = start + (k + 1) / RATE - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
        else:
            late += 1
    busy = time.perf_counter() - start
    deadline = time.monotonic() + 30
    while any(c._out_messages for c, _ in clients) and time.monotonic() < deadline:
        time.sleep(0.05)
    for c, _ in clients:
        c.disconnect()
        c.loop_stop()
    out.put({"sent": sent, "late_ticks": late, "publish_seconds": busy})


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total / TICK


def measure(read_url: str, publish_urls: list[str], seconds: float, hub_pids: list[int],
            venue_pids: list[int]) -> dict:
    got: list[tuple[int, float, float]] = []
    url = parse_url(read_url)
    sub = make_client(url, client_id="bench-reader")

    def on_message(_c, _u, msg):
        now = time.time()
        doc = json.loads(msg.payload)
        got.append((hash(doc["alcove"]) ^ doc["seq"] << 20, doc["t"], now))

    sub.on_message = on_message
    sub.on_connect = lambda c, *_: c.subscribe(url.topic, qos=1)
    sub.connect(url.host, url.port, keepalive=30)
    sub.loop_start()
    time.sleep(1.0)
    q = mp.Queue()
    proc = mp.Process(target=publisher, args=(publish_urls, seconds, q))
    proc.start()
    assert q.get(timeout=120) == "ready"
    hub0, venue0, t0 = cpu_seconds(hub_pids), cpu_seconds(venue_pids), time.perf_counter()
    report = q.get(timeout=seconds + 120)
    wall = time.perf_counter() - t0
    hub1, venue1 = cpu_seconds(hub_pids), cpu_seconds(venue_pids)
    proc.join(timeout=30)
    deadline = time.monotonic() + 30
    while len(got) < report["sent"] and time.monotonic() < deadline:
        time.sleep(0.1)
    sub.disconnect()
    sub.loop_stop()
    lat = np.array([(r - s) * 1000.0 for _, s, r in got]) if got else np.zeros(1)
    unique = len({k for k, _, _ in got})
    return {"sent": report["sent"], "received": unique, "duplicates": len(got) - unique,
            "lost": report["sent"] - unique, "late_ticks": report["late_ticks"],
            "updates_per_s": round(unique * PER_ALCOVE / wall, 1),
            "target_updates_per_s": len(publish_urls) * PER_ALCOVE * RATE,
            "latency_ms_p50": round(float(np.percentile(lat, 50)), 2),
            "latency_ms_p99": round(float(np.percentile(lat, 99)), 2),
            "hub_cpu_pct": round(100 * (hub1 - hub0) / wall, 1),
            "venue_brokers_cpu_pct": round(100 * (venue1 - venue0) / wall, 1)}


def bridged(k: int, seconds: float) -> dict:
    from tests.network_util import free_ports

    top = Path(tempfile.mkdtemp(prefix="symphony-owl-bench-"))
    top.chmod(0o755)
    try:
        alcoves = [f"a{i}" for i in range(k)]
        init_network(Plan(top / "net", alcoves, hub_port=free_ports(1), local_port=free_ports(k)))
        with Network(top / "net") as net:
            read = (top / "net" / "hub" / "read.url").read_text().strip()
            urls = [(top / "net" / a / "publish.url").read_text().strip() for a in alcoves]
            time.sleep(2.0)  # every bridge connected
            return measure(read, urls, seconds, [net.procs["hub"].pid],
                           [p.pid for n, p in net.procs.items() if n != "hub"])
    finally:
        shutil.rmtree(top, ignore_errors=True)


def direct(k: int, seconds: float) -> dict:
    broker = Broker()
    try:
        base = f"mqtt://127.0.0.1:{broker.port}"
        broker_pid = broker.proc.pid
        return measure(f"{base}/owl/+/features", [f"{base}/owl/a{i}/features" for i in range(k)], seconds,
                       [broker_pid], [])
    finally:
        broker.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ks", default="10,50,100")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    for k in (int(x) for x in args.ks.split(",")):
        row = {"alcoves": k, "participants": k * PER_ALCOVE, "bridged": bridged(k, args.seconds),
               "baseline_one_plain_broker": direct(k, args.seconds)}
        rows.append(row)
        print(json.dumps(row) if args.json else row, flush=True)
    info = {"cpus": os.cpu_count(), "load_avg_1m": os.getloadavg()[0], "seconds": args.seconds}
    print(json.dumps({"machine": info}))


if __name__ == "__main__":
    main()
