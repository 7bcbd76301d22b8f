"""What `record` loses when it is killed: SIGKILL mid-stream versus a clean SIGTERM stop.

    python3 benchmarks/kill9.py --json [--runs 5] [--seconds 4] [--rate 200]

Each run starts `symphony record --source osc://127.0.0.1:PORT`, streams one participant's
eda at `rate` Hz (time-tagged bundles) for `seconds`, then kills the recorder with SIGKILL (or,
for the baseline in the same run, stops it with SIGTERM) while the stream is still flowing,
and counts the samples in the file against those sent before the signal. The recorder flushes
every 0.5 s, so SIGKILL should cost at most about that; SIGTERM should cost nothing.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.recording.readers import load_recording  # noqa: E402
from engine.sources.oscwire import unix_to_ntp  # noqa: E402
from tests.mosquitto import free_port  # noqa: E402

MSG = b"/alcove/a1/p/p01/eda\0\0\0\0,f\0\0"


def one(sig: int, seconds: float, rate: float, folder: Path, k: int) -> dict:
    port, out = free_port(), folder / f"run{k}.xdf"
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_symphony.py"), "record", "--source",
                             f"osc://127.0.0.1:{port}", "-o", str(out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    deadline = time.monotonic() + 60
    while not out.exists() or out.stat().st_size < 200:  # the recorder writes its header once started
        assert time.monotonic() < deadline and proc.poll() is None, "record did not start"
        time.sleep(0.05)
    time.sleep(1.0)
    sent, start = 0, time.time()
    while time.time() - start < seconds:
        t = time.time()
        body = MSG + struct.pack(">f", 5.0)
        sock.sendto(b"#bundle\0" + struct.pack(">Qi", unix_to_ntp(t), len(body)) + body, ("127.0.0.1", port))
        sent += 1
        time.sleep(max(0.0, start + sent / rate - time.time()))
    proc.send_signal(sig)
    proc.wait()
    rec = load_recording(out)
    got = sum(s.t.size for s in rec.series if s.participant == "p01")
    return {"sent": sent, "recorded": got, "lost": sent - got, "lost_seconds": (sent - got) / rate}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--rate", type=float, default=200.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kill = [one(signal.SIGKILL, args.seconds, args.rate, Path(tmp), k) for k in range(args.runs)]
        term = [one(signal.SIGTERM, args.seconds, args.rate, Path(tmp), 100 + k) for k in range(args.runs)]
    def spread(runs: list[dict]) -> dict:
        lost = [r["lost_seconds"] for r in runs]
        return {"min": min(lost), "median": statistics.median(lost), "max": max(lost)}

    out = {"rate_hz": args.rate, "seconds": args.seconds, "sigkill": kill, "sigterm_baseline": term,
           "sigkill_lost_s": spread(kill), "sigterm_lost_s": spread(term), "flush_every_s": 0.5}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
