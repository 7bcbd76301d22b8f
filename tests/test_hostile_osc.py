"""Hostile OSC never costs valid data, through the real receiver on 127.0.0.1 (issue #15)."""

from __future__ import annotations

import os
import socket
import struct
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.sources import open_source
from engine.sources.intake import Intake, Rejects
from engine.sources.osc import Decoder
from engine.sources.oscwire import MAX_MESSAGES, unix_to_ntp


def msg(address: str, *floats: float) -> bytes:
    def pad(b: bytes) -> bytes:
        return b + b"\0" * (4 - len(b) % 4)

    return pad(address.encode()) + pad(b"," + b"f" * len(floats)) + struct.pack(f">{len(floats)}f", *floats)


def bundle(tag: int, *messages: bytes) -> bytes:
    return b"#bundle\0" + struct.pack(">Q", tag) + b"".join(struct.pack(">i", len(m)) + m for m in messages)


@pytest.fixture
def osc():
    src = open_source("osc://127.0.0.1:0")
    src.start()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield src, sock, ("127.0.0.1", src.bound_port)
    sock.close()
    src.stop()


def drain(src, want: int, timeout: float = 20.0, stream: str = "p01"):
    got, start = [], time.monotonic()
    while sum(c.v.size for c in got if c.participant == stream) < want and time.monotonic() - start < timeout:
        got += src.poll(time.monotonic() - start)[0]
        time.sleep(0.01)
    return [c for c in got if c.participant == stream]


def test_unbundled_samples_drained_in_one_wakeup_are_all_kept(osc):
    src, sock, addr = osc
    src.poll(0.0)
    n = 2000
    for k in range(n):  # a 100 Hz stream without bundles, sent in one burst, garbage alongside
        sock.sendto(msg("/alcove/a1/p/p01/eda", float(k % 25)), addr)
        sock.sendto(b"\x00garbage", addr)
    chunks = drain(src, n)
    t = np.concatenate([c.t for c in chunks])
    assert t.size == n and np.all(np.diff(np.sort(t)) > 0)  # distinct arrival times (on main: ~60 % lost)
    assert src.rejects.counts.get("duplicate", 0) == 0 and src.rejects.counts["malformed"] == n


def test_a_forged_time_tag_never_blocks_a_stream(osc):
    src, sock, addr = osc
    src.poll(0.0)
    sock.sendto(bundle(2**64 - 1, msg("/alcove/a1/p/p01/eda", 1.0)), addr)  # the year 2036 and beyond
    sock.sendto(bundle(unix_to_ntp(1e9), msg("/alcove/a1/p/p01/eda", 1.0)), addr)  # 2001
    time.sleep(0.2)
    now = time.time()
    for k in range(1000):
        sock.sendto(bundle(unix_to_ntp(now + k * 0.01), msg("/alcove/a1/p/p01/eda", 2.0)), addr)
    assert sum(c.v.size for c in drain(src, 1000)) == 1000  # on main: 0 of 1,000
    assert src.rejects.counts["bad_timestamp"] == 2 and "time_backwards" not in src.rejects.counts


def test_huge_bundles_are_refused_undecoded_and_a_valid_stream_beside_them_is_whole(osc):
    src, sock, addr = osc
    src.poll(0.0)
    hostile = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    huge = bundle(1, *[msg(f"/alcove/a1/p/x{k % 50}/eda", 1.0) for k in range(1624)])
    now = time.time()
    for k in range(400):  # 200 Hz valid stream; one 1,624-message bundle after every 10 of its samples
        sock.sendto(bundle(unix_to_ntp(now + k * 0.005), msg("/alcove/a1/p/p01/eda", 3.0)), addr)
        if k % 10 == 0:
            hostile.sendto(huge, addr)
    hostile.close()
    assert sum(c.v.size for c in drain(src, 400)) == 400
    assert src.rejects.counts["oversize"] == 40 and src.received == 400  # none of the huge bundles


def test_an_alcove_segment_that_is_not_an_id_is_rejected(osc):
    src, sock, addr = osc
    src.poll(0.0)
    for alcove in ("a\x01b", "\u202eevil", "x" * 65000, "Jane Doe"):
        sock.sendto(msg(f"/alcove/{alcove}/p/p02/eda", 1.0)[:65000], addr)
    sock.sendto(msg("/alcove/a1/p/p01/eda", 1.0), addr)
    chunks = drain(src, 1)
    assert [c.alcove for c in chunks] == ["a1"]
    assert src.rejects.counts.get("bad_address", 0) + src.rejects.counts.get("malformed", 0) == 4


def test_everything_received_before_stop_is_delivered(osc):
    src, sock, addr = osc
    src.poll(0.0)
    now = time.time()
    for k in range(3000):
        sock.sendto(bundle(unix_to_ntp(now + k * 0.001), msg("/alcove/a1/p/p01/eda", 4.0)), addr)
    time.sleep(0.3)  # received by the child; never polled by the parent
    chunks, _ = src.finish(1.0)
    assert sum(c.v.size for c in chunks if c.participant == "p01") == 3000


def test_a_dead_receiver_is_respawned_without_waiting_for_it(osc):
    src, sock, addr = osc
    src.poll(0.0)
    pid = src._proc.pid
    os.kill(pid, 9)
    src._proc.wait()
    with pytest.raises(Exception, match="receiver stopped"):
        for _ in range(100):
            src.poll(0.1)
            time.sleep(0.01)
    src._retry_at = 0.0
    src.poll(0.2)  # respawns and returns at once: the new child has not said ready yet
    assert src._proc is not None and src._proc.pid != pid and src.info == {} and src.restarts == 1
    deadline = time.monotonic() + 20
    while not src.info and time.monotonic() < deadline:
        src.poll(0.3)
        time.sleep(0.01)
    assert src.info  # and it comes up by itself


def test_the_decoders_address_cache_stays_bounded_under_an_address_flood():
    from engine.sources.osc import MAX_ROUTES
    from engine.sources.oscwire import parse_packet

    dec = Decoder(Intake(Rejects("routes", quiet=True), max_participants=16))
    for k in range(2 * MAX_ROUTES + 10):  # distinct ids, then distinct 2,000-character ids
        dec.message(parse_packet(msg(f"/alcove/a1/p/f{k}/eda", 1.0))[0], time.time())
    assert 0 < len(dec._routes) <= MAX_ROUTES
    dec._routes.clear()
    for k in range(100):
        dec.message(parse_packet(msg(f"/alcove/a1/p/{'x' * 2000}{k}/eda", 1.0))[0], time.time())
    assert dec._routes == {} and dec.rejects.counts["bad_participant"] == 100


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(
    st.binary(max_size=64),
    st.builds(lambda tag, v: bundle(tag, msg("/alcove/a1/p/p01/eda", v)),
              st.integers(0, 2**64 - 1), st.floats(width=32)),
    st.builds(lambda n: bundle(1, *[msg("/alcove/a1/p/p01/eda", 1.0)] * n), st.integers(0, 2 * MAX_MESSAGES)),
), max_size=8))
def test_the_decoder_is_total_and_every_plausible_sample_passes(packets):
    dec = Decoder(Intake(Rejects("fuzz", quiet=True), time_window=86400.0))
    for k, data in enumerate(packets):
        for chunk in dec.packet(data, arrival=time.time() + k * 1e-3):
            assert np.all(np.isfinite(chunk.v)) and np.all(np.abs(chunk.t - time.time()) < 2 * 86400)


def test_a_sender_of_costly_packets_is_cut_to_its_share_and_a_valid_stream_is_whole(osc):
    """Bundles just under the message cap cost milliseconds each to decode: their sender gets
    its share of the receiver (then `overload`), never the whole of it (on main: every one was
    decoded, and a valid 200 Hz stream starved)."""
    src, sock, addr = osc
    src.poll(0.0)
    hostile = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    costly = bundle(1, *[msg(f"/alcove/a1/p/x{k % 50}/eda", 1.0, 2.0) for k in range(MAX_MESSAGES)])
    now = time.time()
    for k in range(400):  # 2 s of a valid 200 Hz stream; 2 costly bundles after each of its samples
        sock.sendto(bundle(unix_to_ntp(now + k * 0.005), msg("/alcove/a1/p/p01/eda", 3.0)), addr)
        hostile.sendto(costly, addr)
        hostile.sendto(costly, addr)
    hostile.close()
    assert sum(c.v.size for c in drain(src, 400, timeout=60)) == 400
    assert src.rejects.counts["overload"] > 0 and "oversize" not in src.rejects.counts
