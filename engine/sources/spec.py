"""The `--source` spec syntax: `kind[:a=1,b=2]`, URLs, and recordings.

    synthetic:participants=12,seed=3,glitch=0.05
    osc://127.0.0.1:9000                       (options after '?': rcvbuf=…, alcove=…)
    lsl://ECG   lsl://p01/ecg   lsl://          (a stream name or type; empty: all streams)
    mqtt://user:pass@127.0.0.1:1883/owl/#?tls=1&ca=ca.pem
    replay:session.xdf?speed=2&loop=1   or a bare path to an existing .xdf/.csv/.edf/.bdf

URLs are split by hand, not by urllib, because an MQTT filter's `#` is not a URL fragment.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from engine.options import split_options
from engine.sources.base import SourceError

URL = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+.-]*)://"
    r"(?:(?P<user>[^:@/?]*)(?::(?P<password>[^@/?]*))?@)?"
    r"(?P<host>\[[0-9a-fA-F:.]+\]|[^:/?\[\]@]*)"
    r"(?::(?P<port>[^/?]*))?"
    r"(?P<path>/[^?]*)?"
    r"(?:\?(?P<query>.*))?$",
    re.DOTALL,
)
RECORDING_SUFFIXES = (".xdf", ".xdfz", ".csv", ".edf", ".bdf")
MAX_SPEC = 4096


def parse_query(query: str, kind: str) -> dict[str, str]:
    """`a=1&b=%2F`: the options of a URL (engine.options, %-escapes undone)."""
    return split_options(query, f"source '{kind}'", SourceError, sep="&", url=True)[1]


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split a spec into a source kind and raw option strings (converted by the source's types)."""
    if not isinstance(spec, str) or not spec.strip():
        raise SourceError("empty source spec")
    spec = spec.strip()
    if len(spec) > MAX_SPEC:
        raise SourceError("source spec is too long")
    if "://" in spec.split("?", 1)[0]:
        m = URL.match(spec)
        if m is None:
            raise SourceError(f"cannot parse source URL '{_redact(spec)}'")
        kind = m["scheme"]
        opts: dict[str, str] = {}
        host = m["host"].strip("[]")
        if kind == "lsl":
            opts["query"] = unquote(host + (m["path"] or ""))
        else:
            if host:
                opts["host"] = host
            if m["port"] is not None:
                opts["port"] = m["port"]
            if m["path"] and m["path"] != "/":
                opts["topic"] = unquote(m["path"][1:])
        if m["user"] is not None:
            opts["username"] = unquote(m["user"])
        if m["password"] is not None:
            opts["password"] = unquote(m["password"])
        for key, value in parse_query(m["query"] or "", kind).items():
            if key in opts:
                raise SourceError(f"source '{kind}': option '{key}' given twice")
            opts[key] = value
        return kind, opts
    kind, sep, rest = spec.partition(":")
    if kind == "replay":
        path, _, query = rest.partition("?")
        opts = parse_query(query, "replay")
        if "=" in path and not Path(path).exists():  # replay:path=...,speed=...
            return kind, {**parse_pairs(path, "replay"), **opts}
        return kind, {"path": path, **opts}
    if spec.lower().endswith(RECORDING_SUFFIXES) or "/" in kind or "\\" in kind:  # a bare path
        if not Path(spec).is_file():
            raise SourceError(f"no recording at '{spec}' (no such file)")
        return "replay", {"path": spec}
    return kind.strip(), parse_pairs(rest, kind)


def parse_pairs(text: str, kind: str) -> dict[str, str]:
    """`a=1,b=x`: the options after `kind:` (engine.options)."""
    return split_options(text, f"source '{kind}'", SourceError)[1]


def _redact(spec: str) -> str:
    """Never echo a password back."""
    return re.sub(r"(://[^:@/]*:)[^@/]*@", r"\1***@", spec)[:200]
