"""Data sources, selected by a spec string such as `synthetic:participants=12,seed=3`."""

from __future__ import annotations

from engine.sources.base import Source, SourceError, parse_options
from engine.sources.synthetic import SyntheticAlcove

SOURCE_KINDS: dict[str, type[Source]] = {cls.kind: cls for cls in (SyntheticAlcove,)}


def open_source(spec: str = "synthetic", **overrides: object) -> Source:
    """Build a source from its spec; `overrides` (e.g. seed from --seed) fill unset options."""
    kind, _, rest = spec.partition(":")
    cls = SOURCE_KINDS.get(kind.strip())
    if cls is None:
        kinds = ", ".join(sorted(SOURCE_KINDS))
        raise SourceError(f"unknown source kind '{kind}' (known: {kinds})")
    options = parse_options(rest, cls.options, cls.kind)
    for key, value in overrides.items():
        if value is not None and key in cls.options:
            options.setdefault(key, value)
    return cls(**options)


__all__ = ["SOURCE_KINDS", "Source", "SourceError", "SyntheticAlcove", "open_source"]
