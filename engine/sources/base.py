"""The one interface every data source implements, and the `--source` spec syntax."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from engine.data import Chunk, Event

if TYPE_CHECKING:
    from engine.sources.intake import Rejects


class SourceError(ValueError):
    """A source spec that cannot be used; the message is shown to the user as is."""


class SourceFatal(SourceError):
    """A source that cannot work and will not recover by retrying (refused credentials, a TLS
    mismatch): `record`/`render` stop with this one error and a non-zero exit."""


class Source(ABC):
    """Delivers samples and events up to a given show time.

    `poll(now)` is called once per frame with the show clock's time; it returns whatever
    arrived (or, for generated and replayed data, whatever is due) since the last call.
    """

    kind: ClassVar[str]
    options: ClassVar[dict[str, type]] = {}
    description: ClassVar[str] = ""
    rejects: Rejects | None = None  # bad input counted per reason (see engine.sources.intake)

    def start(self) -> None:  # noqa: B027 - optional hook
        """Open sockets, files or threads."""

    def stop(self) -> None:  # noqa: B027 - optional hook
        """Release whatever start() acquired."""

    @abstractmethod
    def poll(self, now: float) -> tuple[list[Chunk], list[Event]]: ...

    def finish(self, now: float) -> tuple[list[Chunk], list[Event]]:
        """Stop, returning what was received but not yet delivered (a recorder's last write)."""
        self.stop()
        return [], []

    def __enter__(self) -> Source:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def parse_options(text: str, allowed: dict[str, type], kind: str) -> dict[str, object]:
    """Parse `a=1,b=x` against the option names and types a source declares."""
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise SourceError(f"source '{kind}': option '{item}' needs a value (name=value)")
        pairs[key] = value
    return convert_options(pairs, allowed, kind)


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(text)


_bool.__name__ = "bool"


def convert_options(pairs: dict[str, str], allowed: dict[str, type], kind: str) -> dict[str, object]:
    """Check option names and convert values to the types a source declares."""
    out: dict[str, object] = {}
    for key, value in pairs.items():
        if key not in allowed:
            names = ", ".join(sorted(allowed)) or "none"
            raise SourceError(f"source '{kind}': unknown option '{key}' (options: {names})")
        convert = _bool if allowed[key] is bool else allowed[key]
        try:
            out[key] = convert(value)
        except (ValueError, OverflowError):
            raise SourceError(
                f"source '{kind}': option '{key}' expects {allowed[key].__name__}, got '{value}'"
            ) from None
    return out
