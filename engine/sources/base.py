"""The one interface every data source implements, and its option check."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from engine.data import Chunk, Event
from engine.options import convert_options as _convert

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


def convert_options(pairs: dict[str, str], allowed: dict[str, type], kind: str) -> dict[str, object]:
    """Check option names and convert values to the types a source declares (engine.options)."""
    return _convert(pairs, allowed, f"source '{kind}'", SourceError)
