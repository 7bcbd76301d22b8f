"""Data sources, selected by a spec string (see `engine.sources.spec` for the syntax)."""

from __future__ import annotations

import socket

from engine.sources.base import Source, SourceError, SourceFatal, convert_options
from engine.sources.mqtt import MqttSource
from engine.sources.osc import OscSource
from engine.sources.replay import ReplaySource
from engine.sources.spec import parse_spec
from engine.sources.synthetic import SyntheticAlcove

SOURCE_KINDS: dict[str, type[Source]] = {
    cls.kind: cls for cls in (SyntheticAlcove, OscSource, MqttSource, ReplaySource)
}


def _lsl() -> type[Source]:
    from engine.sources.lsl import LslSource  # imports pylsl (liblsl) only when asked for

    return LslSource


def open_source(spec: str = "synthetic", **overrides: object) -> Source:
    """Build a source from its spec; `overrides` (e.g. seed from --seed) fill unset options."""
    kind, pairs = parse_spec(spec)
    cls = _lsl() if kind == "lsl" else SOURCE_KINDS.get(kind)
    if kind == "mqtt" and pairs.get("topic", "").endswith("/features"):
        from engine.network.source import NetworkSource  # a network hub's features, not raw samples

        cls = NetworkSource
    if cls is None:
        kinds = ", ".join(sorted([*SOURCE_KINDS, "lsl"]))
        raise SourceError(f"unknown source kind '{kind}' (known: {kinds})")
    options = convert_options(pairs, cls.options, cls.kind)
    check_host(kind, options.get("host"))
    for key, value in overrides.items():
        if value is not None and key in cls.options:
            options.setdefault(key, value)
    return cls(**options)


def check_host(kind: str, host: object) -> None:
    """A host name that does not resolve fails here, in one line naming it, rather than as the
    resolver's bare message from inside a receiver process or a reconnect loop."""
    if not isinstance(host, str) or not host:
        return
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        raise SourceError(f"source '{kind}': unknown host '{host}' (its name does not resolve)") from None


def source_descriptions() -> dict[str, str]:
    out = {kind: cls.description for kind, cls in SOURCE_KINDS.items()}
    out["lsl"] = "Lab Streaming Layer on this machine: lsl://[name-or-type] (pylsl)"
    return dict(sorted(out.items()))


__all__ = ["SOURCE_KINDS", "Source", "SourceError", "SourceFatal", "SyntheticAlcove", "open_source",
           "source_descriptions"]
