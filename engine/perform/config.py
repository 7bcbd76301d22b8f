"""The perform sections of a venue file: `[console]`, `[control]`, `[[cue]]`, `[failover]`.

Checked completely before any window opens, with the venue file's one-line errors
(`file: key: what is wrong`). Documented in assets/venues/perform_show.toml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.venue.config import Venue, VenueError, _Checker

CONSOLE_KEYS = ("monitor", "size")
CONTROL_KEYS = ("osc", "allow", "fade")
CUE_KEYS = ("name", "scene", "params", "preset", "fade")
FAILOVER_KEYS = ("stale_after", "fallback", "safe_scene", "crossfade")


@dataclass
class ConsoleSpec:
    monitor: int | str = 0
    size: tuple[int, int] = (800, 480)


@dataclass
class ControlSpec:
    host: str = "127.0.0.1"
    port: int = 9100
    allow: tuple[str, ...] = ("127.0.0.1",)  # sender addresses accepted
    fade: float = 1.0  # default blackout fade, seconds


@dataclass
class Cue:
    name: str
    scene: str | None = None  # None: the scene that is running
    params: dict[str, float] = field(default_factory=dict)
    preset: Path | None = None
    fade: float = 2.0


@dataclass
class FailoverSpec:
    stale_after: float = 5.0
    fallback: str = "synthetic"
    safe_scene: str | None = None  # where panic ends (default: the venue's scene)
    crossfade: float = 1.0  # seconds both sources feed the show while one takes over


@dataclass
class PerformConfig:
    console: ConsoleSpec | None = None
    control: ControlSpec | None = None
    cues: list[Cue] = field(default_factory=list)
    failover: FailoverSpec | None = None


def parse_perform(venue: Venue) -> PerformConfig:
    """The perform sections of a loaded venue (its `raw` table)."""
    raw, c = venue.raw, _Checker(venue.label)
    base = venue.path.parent if venue.path else Path.cwd()
    out = PerformConfig()
    if "console" in raw:
        t = c.table("console", raw["console"], CONSOLE_KEYS)
        m = t.get("monitor", 0)
        monitor = (c.text("console.monitor", m) if isinstance(m, str)
                   else c.integer("console.monitor", m, 0, 63))
        size = c.ints("console.size", t["size"], 2, lo=160) if "size" in t else ConsoleSpec.size
        out.console = ConsoleSpec(monitor, size)
    if "control" in raw:
        t = c.table("control", raw["control"], CONTROL_KEYS)
        spec = ControlSpec()
        if "osc" in t:
            host, _, port = c.text("control.osc", t["osc"]).rpartition(":")
            if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
                raise c.fail("control.osc", f"expected \"HOST:PORT\" (\"127.0.0.1:9100\"), got {t['osc']!r}")
            spec.host, spec.port = host, int(port)
        if "allow" in t:
            allow = t["allow"]
            if not isinstance(allow, list) or not all(isinstance(a, str) and a for a in allow):
                raise c.fail("control.allow", f"expected a list of sender addresses, got {allow!r}")
            spec.allow = tuple(allow)
        elif spec.host not in ("127.0.0.1", "localhost", "::1"):
            raise c.fail("control.allow", f"control bound to {spec.host} needs an allow-list of sender "
                                          "addresses (allow = [\"10.0.0.5\"])")
        if "fade" in t:
            spec.fade = c.number("control.fade", t["fade"], 0.0, 60.0)
        out.control = spec
    cues = raw.get("cue", [])
    if not isinstance(cues, list):
        raise c.fail("cue", "expected [[cue]] tables")
    for i, item in enumerate(cues):
        out.cues.append(_cue(c, f"cue[{i}]", c.table(f"cue[{i}]", item, CUE_KEYS), base))
    names = [q.name for q in out.cues]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise c.fail(f"cue[{i}].name", f"'{name}' is used twice (names must differ)")
    if "failover" in raw:
        t = c.table("failover", raw["failover"], FAILOVER_KEYS)
        spec_f = FailoverSpec()
        if "stale_after" in t:
            spec_f.stale_after = c.number("failover.stale_after", t["stale_after"], 0.1, 3600.0)
        if "fallback" in t:
            spec_f.fallback = c.text("failover.fallback", t["fallback"])
        if "safe_scene" in t:
            spec_f.safe_scene = c.text("failover.safe_scene", t["safe_scene"])
        if "crossfade" in t:
            spec_f.crossfade = c.number("failover.crossfade", t["crossfade"], 0.0, 60.0)
        out.failover = spec_f
    return out


def _cue(c: _Checker, key: str, t: dict, base: Path) -> Cue:
    cue = Cue(c.text(f"{key}.name", t.get("name", key)))
    if "scene" in t:
        cue.scene = c.text(f"{key}.scene", t["scene"])
    if "params" in t:
        params = t["params"]
        if not isinstance(params, dict):
            raise c.fail(f"{key}.params", f"expected a table of numbers, got {params!r}")
        cue.params = {k: c.number(f"{key}.params.{k}", v, -1e9, 1e9) for k, v in params.items()}
    if "preset" in t:
        path = Path(c.text(f"{key}.preset", t["preset"]))
        cue.preset = path if path.is_absolute() else base / path
        if not cue.preset.is_file():
            raise c.fail(f"{key}.preset", f"preset file {cue.preset} not found")
    if "fade" in t:
        cue.fade = c.number(f"{key}.fade", t["fade"], 0.0, 600.0)
    return cue


__all__ = ["ConsoleSpec", "ControlSpec", "Cue", "FailoverSpec", "PerformConfig", "VenueError",
           "parse_perform"]
