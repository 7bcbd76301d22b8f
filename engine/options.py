"""The one option syntax of every spec on the command line: `kind:word,name=value,...`.

Why one: source specs (`synthetic:participants=3,glitch=0.1`, the `?a=1&b=2` of a URL) and
layout specs (`quilt:8x6,cone=40`) used to be split by three functions with different rules
(one read `tls=maybe` as false, another refused it). Here a pair is `name=value` (names
case-insensitive where the caller says so), a word without `=` is positional where the caller
allows one, and a boolean is `1/true/yes/on` or `0/false/no/off`, anything else an error.
Callers pass their own error class, so messages stay theirs (`SourceError`, `LayoutError`).
"""

from __future__ import annotations

from urllib.parse import unquote

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def split_options(text: str, what: str, error: type[Exception] = ValueError, *, sep: str = ",",
                  positional: int = 0, allowed: tuple[str, ...] | None = None, lower: bool = False,
                  url: bool = False) -> tuple[list[str], dict[str, str]]:
    """`text` → (positional words, {name: value}). `what` starts every message ("source
    'osc'", "layout 'quilt:9x5'"); `allowed` names the options there are (others are an
    error listing them); `url` undoes %-escapes (the query of a URL)."""
    words: list[str] = []
    named: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(sep))):
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if url:
            key, value = unquote(key), unquote(value)
        if lower:
            key = key.lower()
        if not eq or not key:
            if positional > len(words) and eq == "":
                words.append(item)
                continue
            if positional:
                raise error(f"{what}: unexpected '{item[:40]}'")
            raise error(f"{what}: option '{item[:40]}' needs a value (name=value)")
        if allowed is not None and key not in allowed:
            names = ", ".join(allowed) or "none"
            raise error(f"{what}: unknown option '{key}' (options: {names})")
        if key in named:
            raise error(f"{what}: option '{key}' given twice")
        named[key] = value
    return words, named


def to_bool(text: str) -> bool:
    """`1/true/yes/on` → True, `0/false/no/off` (or empty) → False; anything else ValueError."""
    value = str(text).strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValueError(text)


to_bool.__name__ = "bool"  # "expects bool" in messages


def convert_options(pairs: dict[str, str], allowed: dict[str, type], what: str,
                    error: type[Exception] = ValueError) -> dict[str, object]:
    """Check option names and convert values to the declared types (bool by `to_bool`)."""
    out: dict[str, object] = {}
    for key, value in pairs.items():
        if key not in allowed:
            names = ", ".join(sorted(allowed)) or "none"
            raise error(f"{what}: unknown option '{key}' (options: {names})")
        convert = to_bool if allowed[key] is bool else allowed[key]
        try:
            out[key] = convert(value)
        except (ValueError, OverflowError):
            raise error(f"{what}: option '{key}' expects {allowed[key].__name__}, got '{value}'") from None
    return out
