"""Erase one participant from an XDF recording, for someone who withdraws consent.

The copy is made chunk by chunk, not by decoding and re-encoding samples: every chunk that
holds nothing of the participant is copied byte for byte, so the other participants' samples,
timestamps and metadata stay bit-identical. What goes:

- every stream whose header names the participant (`<id>/<channel>` names or channel labels,
  a stream named `<id>`, or `desc/participant`), with all its samples, clock offsets and footer;
- every marker (string) sample that names the participant (a JSON `participant` field, or the
  id as a whole word in plain text); the marker chunk is rewritten without those samples and the
  marker stream's footer count follows.

A stream that mixes the participant with other people's data (one multi-channel stream for
several people) cannot be cut bit-exactly; it is refused with one line rather than guessed at.
A damaged file is copied up to the damage, with a warning saying where.
"""

from __future__ import annotations

import json
import os
import re
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from engine.data import valid_participant_id
from engine.recording.xdf import SAMPLES, STREAM_FOOTER, STREAM_HEADER, chunk, varlen

STREAM_TAGS = (STREAM_HEADER, SAMPLES, 4, STREAM_FOOTER)  # content starts with a stream id


class EraseError(Exception):
    """The file cannot be erased as asked; one line for the user."""


@dataclass
class EraseReport:
    streams_removed: list[str] = field(default_factory=list)
    samples_removed: int = 0
    markers_removed: int = 0
    damaged_at: int | None = None  # byte offset where reading stopped, if the file is damaged


def erase_participant(src: str | Path, dst: str | Path, participant: str) -> EraseReport:
    """Write `dst`: `src` without any stream, sample, marker or metadata of `participant`."""
    src, dst = Path(src), Path(dst)
    if not valid_participant_id(participant):
        raise EraseError(f"'{participant}' is not a participant id ([A-Za-z0-9_-], 1-32 characters)")
    if src.resolve() == dst.resolve():
        raise EraseError("the cleaned copy must be a new file (-o), not the recording itself")
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise EraseError(f"cannot read {src}: {exc.strerror or exc}") from None
    if not data.startswith(b"XDF:"):
        raise EraseError(f"{src} is not an XDF file (no 'XDF:' magic)")
    word = re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(participant)}(?![A-Za-z0-9_-])")
    report = EraseReport()
    out = [b"XDF:"]
    dropped: set[int] = set()
    markers: dict[int, int] = {}  # string stream id -> samples removed
    for offset, tag, content in _chunks(data, report):
        if tag == 1 and word.search(content.decode("utf-8", "replace")):
            raise EraseError(f"{src}: the file header names '{participant}'; edit it by hand")
        if tag not in STREAM_TAGS or len(content) < 4:
            out.append(data[offset[0]:offset[1]])
            continue
        sid = struct.unpack_from("<I", content)[0]
        if tag == STREAM_HEADER:
            owner = _header_owner(content[4:], participant, word, src)
            if owner == "theirs":
                dropped.add(sid)
                report.streams_removed.append(_stream_name(content[4:]))
                continue
            if owner == "markers":
                markers[sid] = 0
        if sid in dropped:
            if tag == SAMPLES:
                report.samples_removed += _sample_count(content)
            continue
        if tag == SAMPLES and sid in markers:
            kept, removed = _filter_strings(content, word, participant)
            markers[sid] += removed
            report.markers_removed += removed
            if kept is None:
                continue
            if removed:
                out.append(chunk(SAMPLES, kept))
                continue
        if tag == STREAM_FOOTER and markers.get(sid):
            out.append(chunk(STREAM_FOOTER, _footer_minus(content, markers[sid])))
            continue
        out.append(data[offset[0]:offset[1]])
    tmp = dst.with_name(dst.name + ".partial")
    tmp.write_bytes(b"".join(out))
    os.replace(tmp, dst)
    return report


def _chunks(data: bytes, report: EraseReport):
    """(byte span, tag, content) of each whole chunk; stops at the first damaged one."""
    pos = 4
    while pos < len(data):
        start = pos
        try:
            nbytes = data[pos]
            fmt = {1: "<B", 4: "<I", 8: "<Q"}[nbytes]
            length = struct.unpack_from(fmt, data, pos + 1)[0]
            pos += 1 + nbytes
            if length < 2 or pos + length > len(data):
                raise ValueError
            tag = struct.unpack_from("<H", data, pos)[0]
        except (KeyError, ValueError, struct.error):
            report.damaged_at = start
            return
        content = data[pos + 2:pos + length]
        pos += length
        yield (start, pos), tag, content


def _header_owner(xml_bytes: bytes, participant: str, word: re.Pattern, src: Path) -> str:
    """'theirs', 'markers' (a string stream: filter its samples) or 'other'."""
    text = xml_bytes.decode("utf-8", "replace")
    try:
        info = ET.fromstring(text[text.find("<info"):] if "<info" in text else text)
    except ET.ParseError:
        if word.search(text):
            raise EraseError(f"{src}: a damaged stream header names '{participant}'") from None
        return "other"
    name = (info.findtext("name") or "").strip()
    if (info.findtext("channel_format") or "").strip() == "string":
        return "markers"
    labels = [(lb.text or "").strip() for lb in info.iterfind("desc/channels/channel/label")]
    by_label = {lb.rpartition("/")[0] for lb in labels if "/" in lb}
    owners = by_label | {(info.findtext("desc/participant") or "").strip(), name.partition("/")[0]}
    if participant in owners:
        others = by_label - {participant}
        if others:
            raise EraseError(f"{src}: stream '{name}' mixes '{participant}' with {sorted(others)}; "
                             "it cannot be cut without changing their data")
        return "theirs"
    if word.search(text):
        raise EraseError(f"{src}: stream '{name}' names '{participant}' in its metadata; edit it by hand")
    return "other"


def _stream_name(xml_bytes: bytes) -> str:
    m = re.search(rb"<name>(.*?)</name>", xml_bytes, re.S)
    return m.group(1).decode("utf-8", "replace") if m else "?"


def _read_varlen(b: bytes, pos: int) -> tuple[int, int]:
    n = b[pos]
    fmt = {1: "<B", 4: "<I", 8: "<Q"}.get(n)
    if fmt is None:
        raise ValueError("bad length field")
    return struct.unpack_from(fmt, b, pos + 1)[0], pos + 1 + n


def _sample_count(content: bytes) -> int:
    try:
        return _read_varlen(content, 4)[0]
    except (ValueError, IndexError, struct.error):
        return 0


def _filter_strings(content: bytes, word: re.Pattern, participant: str) -> tuple[bytes | None, int]:
    """A marker Samples chunk without the participant's samples: (new content or None when
    nothing is left, samples removed). Unparseable chunks are kept only if they do not name
    the participant."""
    sid = content[:4]
    try:
        count, pos = _read_varlen(content, 4)
        kept: list[bytes] = []
        for _ in range(count):
            start = pos
            stamp = content[pos]
            pos += 1 + (8 if stamp == 8 else 0)
            size, pos = _read_varlen(content, pos)
            text = content[pos:pos + size].decode("utf-8", "replace")
            pos += size
            if not _names(text, word, participant):
                kept.append(content[start:pos])
    except (ValueError, IndexError, struct.error):
        if word.search(content.decode("utf-8", "replace")):
            return None, 1
        return content, 0
    removed = count - len(kept)
    if not kept:
        return None, removed
    return sid + varlen(len(kept)) + b"".join(kept), removed


def _names(text: str, word: re.Pattern, participant: str) -> bool:
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if isinstance(obj, dict) and obj.get("participant") == participant:
        return True
    return bool(word.search(text))


def _footer_minus(content: bytes, removed: int) -> bytes:
    body = content[4:].decode("utf-8", "replace")

    def fix(m: re.Match) -> str:
        return f"<sample_count>{max(0, int(m.group(1)) - removed)}</sample_count>"

    return content[:4] + re.sub(r"<sample_count>(\d+)</sample_count>", fix, body).encode()
