"""What a new user meets: one-line errors, a closed pipe, a sender that never sends."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from engine.offline import await_data
from engine.sources import SourceError, open_source
from tests.conftest import ROOT, run_cli


@pytest.mark.parametrize("args, message", [
    (["render", "symphony", "-o", "x.mp4", "--source", "osc://nohost:9000"], "unknown host 'nohost'"),
    (["render", "symphony", "-o", "x.mp4", "--source", "mqtt://no-such-host.invalid:1883/owl/#"],
     "unknown host 'no-such-host.invalid'"),
    (["render", "symphony", "-o", "x.mp4", "--source", "missing/session.xdf"],
     "no recording at 'missing/session.xdf'"),
    (["render", "symphony", "-o", "x.mp4", "--source", "./nothing_here"], "no recording at './nothing_here'"),
    (["render", "symphony", "-o", "x.mp4", "--sizee", "3"], "unrecognized arguments: --sizee"),
    (["render"], "required: scene"),
    (["render", "symphony", "-o", "x.avi"], "unknown suffix '.avi'"),
])
def test_user_errors_are_one_line(args, message, tmp_path):
    res = run_cli(*[a.replace("x.", f"{tmp_path}/x.") for a in args])
    assert res.returncode == 2 if "avi" not in message else res.returncode != 0
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not list(tmp_path.iterdir())


def test_an_error_in_update_is_one_line_naming_the_scene_file(tmp_path):
    scene = tmp_path / "fragile.py"
    scene.write_text(
        "from engine import Scene, StrandLayer\n\n\n"
        "class Fragile(Scene):\n"
        "    def setup(self) -> None:\n"
        "        self.strands = self.add(StrandLayer(bundles=2, strands_per_bundle=2, points=8))\n\n"
        "    def update(self, frame) -> None:\n"
        "        if frame.index == 3:\n"
        "            raise ValueError('the artist slipped')\n")
    out = tmp_path / "out" / "f.mp4"
    out.parent.mkdir()
    res = run_cli("render", str(scene), "-o", str(out), "--seconds", "1", "--size", "160x90")
    assert res.returncode == 2
    last = res.stderr.strip().splitlines()[-1]
    assert last == ("symphony: error: Fragile.update failed at frame 3: ValueError: the artist slipped "
                    "(fragile.py:10)"), res.stderr
    assert "Traceback" not in res.stderr
    assert not list(out.parent.iterdir()), "no video, not even a partial one"


def test_usage_errors_point_at_help():
    res = run_cli("render", "symphony", "--fps", "fast")
    assert res.stderr.startswith("symphony render: error: argument --fps")
    assert res.stderr.strip().endswith("(see 'symphony render --help')")


def test_a_closed_pipe_ends_quietly():
    """`symphony list | head -1`: the reader leaves early; no error, no traceback."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_symphony.py"), "list"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the program writes a byte
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""


def test_render_from_a_sender_that_never_sends_fails_without_a_file(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free now; nobody will send to it
    out = tmp_path / "silent.mp4"
    begin = time.monotonic()
    res = run_cli("render", "symphony", "-o", str(out), "--seconds", "0.2", "--size", "64x36",
                  "--source", f"osc://127.0.0.1:{port}", "--wait", "1.5")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()  # kernel compilation may report before it (a cold cache)
    assert lines[-1].startswith(f"symphony: error: source osc://127.0.0.1:{port} delivered no data in 1.5 s")
    assert not [line for line in lines[:-1] if "rror" in line or "Traceback" in line], lines
    assert not out.exists() and not list(tmp_path.iterdir())
    assert time.monotonic() - begin >= 1.5


def test_await_data_hands_the_first_data_to_the_first_frame():
    with open_source("osc://127.0.0.1:0") as src:
        with pytest.raises(SourceError, match="delivered no data in 0.3 s"):
            await_data(src, "osc", 0.3)
        msg = OscMessageBuilder("/alcove/a1/p/p01/eda")
        msg.add_arg(4.5)

        def send() -> None:
            time.sleep(0.3)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(msg.build().dgram, ("127.0.0.1", src.bound_port))

        sender = threading.Thread(target=send)
        sender.start()
        primed = await_data(src, "osc", 20.0)
        sender.join()
        chunks, _ = primed.poll(0.0)  # the data that ended the wait is not lost
        assert [(c.participant, c.channel, float(c.v[0])) for c in chunks] == [("p01", "eda", 4.5)]
        assert primed.poll(0.1) == ([], []) and primed.rejects is src.rejects
