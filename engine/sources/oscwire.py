"""OSC 1.0 packets: a strict, fast decoder for the receive path (python-osc builds packets).

Returns the messages of a packet (nested bundles flattened) with the time tag that applies
to each; raises `OscError` on anything malformed, and never anything else. Float-only
messages, the common case for sensor data, decode with one `numpy.frombuffer`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

NTP_EPOCH = 2208988800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (unix)
IMMEDIATE = 1  # the special time tag "now"
MAX_DEPTH = 8
MAX_MESSAGES = 512  # per packet: a 64-participant, 8-channel bundle fits; 1,624 one-float messages don't
_SMALL = 16 + 8 * MAX_MESSAGES  # every message takes at least 8 bytes of a bundle (size, "/\0\0\0")
_SIZES = {"i": 4, "f": 4, "d": 8, "h": 8, "t": 8, "c": 4, "r": 4, "m": 4}


class OscError(ValueError):
    """A packet that is not valid OSC."""


class OscOversize(OscError):
    """A packet with more messages than `MAX_MESSAGES` (rejected before decoding them)."""


@dataclass
class OscMessage:
    address: str
    tags: str  # type tags without the leading comma
    args: list | np.ndarray  # numeric-only messages (floats, or an int then floats): a numpy array
    timetag: int  # raw 64-bit NTP time tag of the enclosing bundle (IMMEDIATE if none)


def ntp_to_unix(tag: int) -> float:
    return (tag >> 32) - NTP_EPOCH + (tag & 0xFFFFFFFF) / 2**32


def unix_to_ntp(t: float) -> int:
    sec = int(t) + NTP_EPOCH
    return (sec << 32) | int((t - int(t)) * 2**32)


def _string(data: bytes, off: int, end: int) -> tuple[str, int]:
    stop = data.find(b"\0", off, end)
    if stop < 0:
        raise OscError("unterminated string")
    try:
        text = data[off:stop].decode("ascii")
    except UnicodeDecodeError:
        raise OscError("non-ASCII string") from None
    return text, (stop + 4) & ~3


def parse_message(data: bytes, off: int, end: int, timetag: int) -> OscMessage:
    address, off = _string(data, off, end)
    if not address.startswith("/"):
        raise OscError("address must start with '/'")
    if off >= end:
        return OscMessage(address, "", [], timetag)  # no type tags: old-style, no arguments
    tags, off = _string(data, off, end)
    if not tags.startswith(","):
        raise OscError("type tags must start with ','")
    tags = tags[1:]
    if off > end:
        raise OscError("truncated message")
    nf = tags.count("f")
    if nf and (nf == len(tags) or (nf == len(tags) - 1 and tags[0] == "i")):  # sensor data: fast path
        lead = len(tags) - nf
        if off + 4 * len(tags) > end:
            raise OscError("truncated arguments")
        floats = np.frombuffer(data, ">f4", nf, off + 4 * lead)
        if lead:  # the int (a rate) first, exactly, then the floats: one float64 array
            out = np.empty(nf + 1)
            out[0] = struct.unpack_from(">i", data, off)[0]
            out[1:] = floats
            return OscMessage(address, tags, out, timetag)
        return OscMessage(address, tags, floats, timetag)
    args: list = []
    for tag in tags:
        if tag in "TFNI":
            args.append({"T": True, "F": False, "N": None, "I": float("inf")}[tag])
            continue
        if tag in "sS":
            text, off = _string(data, off, end)
            args.append(text)
            continue
        if tag == "b":
            if off + 4 > end:
                raise OscError("truncated blob")
            (size,) = struct.unpack_from(">i", data, off)
            if size < 0 or off + 4 + size > end:
                raise OscError("bad blob size")
            args.append(bytes(data[off + 4:off + 4 + size]))
            off = (off + 4 + size + 3) & ~3
            continue
        size = _SIZES.get(tag)
        if size is None:
            raise OscError("unknown type tag")
        if off + size > end:
            raise OscError("truncated arguments")
        fmt = {"i": ">i", "f": ">f", "d": ">d", "h": ">q", "t": ">Q", "c": ">i", "r": ">I", "m": ">I"}[tag]
        args.append(struct.unpack_from(fmt, data, off)[0])
        off += size
    if off > end:
        raise OscError("truncated arguments")
    return OscMessage(address, tags, args, timetag)


def parse_packet(data: bytes, off: int = 0, end: int | None = None, timetag: int = IMMEDIATE,
                 depth: int = 0) -> list[OscMessage]:
    end = len(data) if end is None else end
    if depth == 0 and end - off > _SMALL and data.startswith(b"#bundle\0", off):
        _count_elements(data, off, end)  # a smaller packet cannot hold more than MAX_MESSAGES
    if end - off < 4 or (end - off) % 4:
        raise OscError("packet size must be a positive multiple of 4")
    if data.startswith(b"#bundle\0", off):
        if depth >= MAX_DEPTH:
            raise OscError("bundles nested too deeply")
        if end - off < 16:
            raise OscError("truncated bundle")
        (tag,) = struct.unpack_from(">Q", data, off + 8)
        off += 16
        out: list[OscMessage] = []
        while off < end:
            if off + 4 > end:
                raise OscError("truncated bundle element")
            (size,) = struct.unpack_from(">i", data, off)
            if size <= 0 or off + 4 + size > end:
                raise OscError("bad bundle element size")
            if data[off + 4] == 47 and not size % 4:  # "/": a message, the common case
                out.append(parse_message(data, off + 4, off + 4 + size, tag))
            else:
                out += parse_packet(data, off + 4, off + 4 + size, tag, depth + 1)
            off += 4 + size
        return out
    if data[off:off + 1] != b"/":
        raise OscError("not an OSC message or bundle")
    return [parse_message(data, off, end, timetag)]


def _count_elements(data: bytes, off: int, end: int) -> None:
    """Walk the bundle tree by its size fields only; too many messages fail before any decoding."""
    stack, n = [(off + 16, end, 0)], 0
    while stack:
        off, end, depth = stack.pop()
        while off + 4 <= end:
            (size,) = struct.unpack_from(">i", data, off)
            if size <= 0 or off + 4 + size > end:
                return  # malformed: parse_packet says why
            if data.startswith(b"#bundle\0", off + 4) and depth < MAX_DEPTH:
                stack.append((off + 4 + 16, off + 4 + size, depth + 1))
            else:
                n += 1
                if n > MAX_MESSAGES:
                    raise OscOversize("too many messages in one packet")
            off += 4 + size
