"""OSC: the wire decoder against python-osc, and the source over real UDP sockets on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from engine.sources import open_source
from engine.sources.intake import Intake, Rejects
from engine.sources.osc import Decoder
from engine.sources.oscwire import IMMEDIATE, OscError, ntp_to_unix, parse_packet, unix_to_ntp


def message(address: str, *args, tags: str | None = None):
    m = OscMessageBuilder(address)
    for k, a in enumerate(args):
        m.add_arg(a, tags[k] if tags else None)
    return m.build()


def _bundle(t: float, *messages) -> bytes:
    b = OscBundleBuilder(t)
    for msg in messages:
        b.add_content(msg)
    return b.build().dgram


def test_decoder_reads_python_osc_messages_and_bundles():
    t0 = 1_700_000_000.25
    data = _bundle(t0, message("/alcove/a1/p/p01/ecg", 250, 0.1, 0.2, 0.3, tags="ifff"),
                   message("/alcove/a1/p/p01/eda", 3.5))
    msgs = parse_packet(data)
    assert [m.address for m in msgs] == ["/alcove/a1/p/p01/ecg", "/alcove/a1/p/p01/eda"]
    assert abs(ntp_to_unix(msgs[0].timetag) - t0) < 1e-6
    dec = Decoder(Intake(Rejects("osc")))
    chunks = dec.packet(data, arrival=t0 + 1)
    ecg = chunks[0]
    np.testing.assert_allclose(ecg.t, t0 + np.arange(3) / 250.0)
    np.testing.assert_array_equal(ecg.v, np.float32([0.1, 0.2, 0.3]))
    assert ecg.alcove == "a1" and chunks[1].t[0] == pytest.approx(t0)
    # no bundle: the arrival time is the last sample's; several floats: spaced by the stream's interval
    single = dec.packet(message("/alcove/a1/p/p02/respiration", 0.5).dgram, arrival=t0 + 2)
    assert single[0].t[0] == t0 + 2
    for bad, reason in ((b"junk", "malformed"), (message("/x/y", 1.0).dgram, "bad_address"),
                        (message("/alcove/a1/p/p01/ecg", "text").dgram, "wrong_type"),
                        (message("/alcove/a1/p/Mr Smith/ecg", 1.0).dgram, "bad_participant"),
                        (message("/alcove/a1/p/p01/aura", 1.0).dgram, "unknown_channel")):
        before = dec.rejects.counts.get(reason, 0)
        assert dec.packet(bad, arrival=t0) == []
        assert dec.rejects.counts[reason] == before + 1, reason


def test_ntp_time_tags_round_trip():
    for t in (0.0, 1.5, 1_700_000_000.123456):
        assert abs(ntp_to_unix(unix_to_ntp(t)) - t) < 1e-6
    assert parse_packet(_bundle(IMMEDIATELY, message("/a", 1.0)))[0].timetag == IMMEDIATE


printable = st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="#*,/?[]{}")
addresses = st.lists(st.text(printable, min_size=1, max_size=8), min_size=1, max_size=5).map(
    lambda p: "/" + "/".join(p))
args = st.lists(st.one_of(st.floats(width=32, allow_nan=False), st.integers(-2**31, 2**31 - 1),
                          st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12)),
                max_size=8)


@settings(max_examples=300, deadline=None, database=None)
@given(addresses, args)
def test_round_trip_with_python_osc(address, values):
    m = OscMessageBuilder(address)
    for v in values:
        m.add_arg(v)
    (msg,) = parse_packet(m.build().dgram)
    assert msg.address == address
    got = list(msg.args)
    assert len(got) == len(values)
    for a, b in zip(got, values, strict=True):
        assert a == b or (isinstance(b, float) and np.float32(a) == np.float32(b))


@settings(max_examples=500, deadline=None, database=None)
@given(st.one_of(st.binary(max_size=200),
                 st.builds(lambda a, b: a + b, st.just(b"#bundle\0"), st.binary(max_size=120)),
                 st.builds(lambda a, b: a + b, st.sampled_from([b"/alcove/a1/p/p01/ecg\0\0\0\0,ff\0"]),
                           st.binary(max_size=16))))
def test_garbage_never_escapes_as_anything_but_a_count(data):
    with contextlib.suppress(OscError):
        parse_packet(data)
    dec = Decoder(Intake(Rejects("osc", quiet=True)))
    for chunk in dec.packet(data, arrival=1.0):
        assert np.all(np.isfinite(chunk.v))


@pytest.fixture
def osc_source():
    src = open_source("osc://127.0.0.1:0")
    src.start()
    yield src
    src.stop()


def _drain(src, want: int, timeout: float = 20.0):
    got, start = [], time.monotonic()
    while sum(c.v.size for c in got) < want and time.monotonic() - start < timeout:
        chunks, _ = src.poll(time.monotonic() - start)
        got += chunks
        time.sleep(0.01)
    return got


def test_udp_source_receives_bundles_with_their_time_tags(osc_source):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    osc_source.poll(0.0)
    now = time.time()
    sock.sendto(_bundle(now - 0.5, message("/alcove/a7/p/p03/ppg", 100, 1.0, 2.0, 3.0, 4.0, tags="iffff")),
                ("127.0.0.1", osc_source.bound_port))
    sock.sendto(b"\x00garbage", ("127.0.0.1", osc_source.bound_port))
    chunks = _drain(osc_source, 4)
    c = chunks[0]
    assert (c.participant, c.channel, c.alcove) == ("p03", "ppg", "a7")
    np.testing.assert_allclose(c.t + c.source_offset, now - 0.5 + np.arange(4) / 100.0, atol=1e-6)
    np.testing.assert_array_equal(c.v, [1.0, 2.0, 3.0, 4.0])
    assert c.arrival >= c.t[-1] - 1e-3  # arrival and source times are both on the show clock
    for _ in range(20):
        osc_source.poll(1.0)
        if osc_source.rejects.counts.get("malformed"):
            break
        time.sleep(0.05)
    assert osc_source.rejects.counts["malformed"] == 1


SENDER = r"""
import socket, struct, sys, time, numpy as np
port, n = int(sys.argv[1]), int(sys.argv[2])
now = int(time.time())
addr = b"/alcove/a1/p/p%02d/ppg\0\0\0\0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for k in range(n):
    head = (b"/alcove/a1/p/p%02d/ppg" % (k % 50)).ljust(24, b"\0") + b",iffffffff\0\0"
    body = struct.pack(">i", 1000) + (np.arange(8) + k).astype(">f4").tobytes()
    t = now + 2208988800 + k // 50
    msg = head + body
    s.sendto(b"#bundle\0" + struct.pack(">II", t, 0) + struct.pack(">i", len(msg)) + msg, ("127.0.0.1", port))
"""


def test_no_packet_lost_while_the_main_thread_is_cpu_bound(osc_source):
    """A pure-Python busy loop holds the GIL; the receiver (a child process) must not care."""
    n = 20_000
    osc_source.poll(0.0)
    sender = subprocess.Popen([sys.executable, "-c", SENDER, str(osc_source.bound_port), str(n)])
    end = time.perf_counter() + 3.0
    x = 0
    while time.perf_counter() < end or sender.poll() is None:  # no poll(), no sleep: just burn
        x = (x * 31 + 7) % 1_000_003
    assert sender.wait() == 0
    chunks = _drain(osc_source, 8 * n)
    assert sum(c.v.size for c in chunks) == 8 * n
    assert osc_source.rejects.rejected == 0
    assert len({c.participant for c in chunks}) == 50
    got = np.sort(np.concatenate([c.v for c in chunks if c.participant == "p07"]))
    want = np.sort(np.concatenate([np.arange(8, dtype=np.float32) + k for k in range(7, n, 50)]))
    np.testing.assert_array_equal(got, want)  # every value, exactly


def test_a_dead_receiver_is_reported_and_restarted(osc_source):
    osc_source.poll(0.0)
    osc_source._proc.kill()
    osc_source._proc.wait()
    with pytest.raises(Exception, match="receiver stopped"):
        for _ in range(50):
            osc_source.poll(0.1)
            time.sleep(0.02)
    assert osc_source.poll(0.2) == ([], [])  # backing off, not respawning every frame
    osc_source._retry_at = 0.0
    osc_source.poll(0.3)  # respawns without waiting for the new receiver to be ready
    deadline = time.monotonic() + 20
    while not osc_source.info and time.monotonic() < deadline:
        osc_source.poll(0.3)
        time.sleep(0.01)
    port = osc_source.bound_port
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(message("/alcove/a1/p/p01/eda", 2.0).dgram, ("127.0.0.1", port))
    assert [c.v.tolist() for c in _drain(osc_source, 1)] == [[2.0]]
