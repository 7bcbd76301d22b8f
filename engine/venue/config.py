"""The venue file: which outputs a show drives and how each is mapped onto its surface.

Read with the standard `tomllib`, checked completely before any window opens: every problem
is one `VenueError` line naming the file, the key and what is wrong. The keys are documented
in `assets/venues/two_projectors.toml` and the README ("Venues and projection mapping").
Sections that belong to perform mode (`console`, `control`, `cue`, `failover`) are kept in
`Venue.raw` for that code to check; any other unknown key is an error.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from engine.render.layouts import LayoutError, parse_layout
from engine.venue.mapping import IDENTITY_CORNERS, corner_problem, mesh_problem, regular_mesh

PERFORM_SECTIONS = ("console", "control", "cue", "failover")
SHOW_KEYS = ("scene", "source", "canvas", "guard", "seed")
OUTPUT_KEYS = ("name", "monitor", "fullscreen", "size", "layout", "region", "corners", "mesh", "blend",
               "mask", "brightness", "gamma", "black_level")
BLEND_KEYS = ("left", "right", "top", "bottom", "gamma", "exponent")
MASK_KEYS = ("points", "feather")
DEFAULT_GUARD = 64  # canvas pixels rendered around a region so bloom joins across outputs


class VenueError(ValueError):
    """A venue file the operator must fix: one line, `file: key: what is wrong`."""


@dataclass
class Blend:
    """Soft edges: overlap widths as fractions of the output's image, and the ramp's shape.
    Two overlapping ramps sum to 1 in linear light: f(x) + f(1 - x) = 1."""

    left: float = 0.0
    right: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    gamma: float = 2.2  # the projector's gamma: the ramp is encoded with 1 / gamma
    exponent: float = 2.0  # curve exponent p of the ramp (1 = linear, 2 = Bourke's default)

    @property
    def active(self) -> bool:
        return any(v > 0.0 for v in (self.left, self.right, self.top, self.bottom))


@dataclass
class Mask:
    """A polygon (output-normalised, origin top-left, y down) shown black; its edge fades
    over `feather` (a fraction of the output's height) outside the polygon."""

    points: list[tuple[float, float]]
    feather: float = 0.0


@dataclass
class OutputSpec:
    name: str
    monitor: int | str = 0
    fullscreen: bool = False
    size: tuple[int, int] | None = None
    layout: str = "flat"
    region: tuple[int, int, int, int] | None = None
    corners: list[tuple[float, float]] = field(default_factory=lambda: list(IDENTITY_CORNERS))
    mesh: list[list[tuple[float, float]]] | None = None
    blend: Blend = field(default_factory=Blend)
    masks: list[Mask] = field(default_factory=list)
    brightness: float = 1.0
    gamma: float = 1.0
    black_level: float = 0.0
    index: int = 0  # position in the file's [[output]] list

    @property
    def warped(self) -> bool:
        return self.corners != list(IDENTITY_CORNERS) or self.mesh is not None

    @property
    def graded(self) -> bool:
        return (self.brightness, self.gamma, self.black_level) != (1.0, 1.0, 0.0)


@dataclass
class Venue:
    path: Path | None
    outputs: list[OutputSpec]
    scene: str | None = None
    source: str | None = None
    seed: int | None = None
    canvas: tuple[int, int] | None = None
    guard: int = DEFAULT_GUARD
    raw: dict = field(default_factory=dict)  # the whole parsed file, perform sections included

    @property
    def label(self) -> str:
        return self.path.name if self.path else "venue"


def default_venue(size: tuple[int, int], monitor: int = 0, fullscreen: bool = False,
                  layout: str = "flat") -> Venue:
    """What a plain `show` is: one flat output showing the whole scene."""
    return Venue(None, [OutputSpec("main", monitor, fullscreen, tuple(size), layout)])


class _Checker:
    """Typed reads that fail with `file: key: problem`."""

    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, key: str, what: str) -> VenueError:
        return VenueError(f"{self.label}: {key}: {what}")

    def number(self, key: str, value, lo: float, hi: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"expected a number, got {value!r}")
        if not lo <= value <= hi:
            raise self.fail(key, f"{value:g} is out of range ({lo:g}..{hi:g})")
        return float(value)

    def integer(self, key: str, value, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected a whole number, got {value!r}")
        if not lo <= value <= hi:
            raise self.fail(key, f"{value} is out of range ({lo}..{hi})")
        return value

    def text(self, key: str, value) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return value

    def ints(self, key: str, value, n: int, lo: int = 0) -> tuple[int, ...]:
        if not isinstance(value, list) or len(value) != n:
            raise self.fail(key, f"expected {n} whole numbers, got {value!r}")
        return tuple(self.integer(key, v, lo, 65536) for v in value)

    def point(self, key: str, value) -> tuple[float, float]:
        if not isinstance(value, list) or len(value) != 2:
            raise self.fail(key, f"expected a point [x, y], got {value!r}")
        return self.number(key, value[0], -4.0, 5.0), self.number(key, value[1], -4.0, 5.0)

    def table(self, key: str, value, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {value!r}")
        for k in value:
            if k not in allowed:
                raise self.fail(f"{key}.{k}" if key else k, f"unknown key (allowed: {', '.join(allowed)})")
        return value


def load_venue(path: str | Path) -> Venue:
    """Read and check a venue file; raises VenueError with one line on any problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VenueError(f"{path}: venue file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VenueError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise VenueError(f"{path.name}: not valid TOML: {exc}") from None
    return parse_venue(raw, path)


def parse_venue(raw: dict, path: Path | None = None) -> Venue:
    c = _Checker(path.name if path else "venue")
    c.table("", raw, ("show", "output", *PERFORM_SECTIONS))
    show = c.table("show", raw.get("show", {}), SHOW_KEYS)
    venue = Venue(path, [], raw=raw)
    if "scene" in show:
        venue.scene = c.text("show.scene", show["scene"])
    if "source" in show:
        venue.source = c.text("show.source", show["source"])
    if "seed" in show:
        venue.seed = c.integer("show.seed", show["seed"], -(2**31), 2**31 - 1)
    if "canvas" in show:
        venue.canvas = c.ints("show.canvas", show["canvas"], 2, lo=16)
    if "guard" in show:
        venue.guard = c.integer("show.guard", show["guard"], 0, 1024)
    outputs = raw.get("output", [])
    if not isinstance(outputs, list) or not outputs:
        raise c.fail("output", "expected one or more [[output]] tables")
    names: set[str] = set()
    for i, table in enumerate(outputs):
        spec = _output(c, f"output[{i}]", c.table(f"output[{i}]", table, OUTPUT_KEYS), venue.canvas, i)
        if spec.name in names:
            raise c.fail(f"output[{i}].name", f"'{spec.name}' is used twice (names must differ)")
        names.add(spec.name)
        venue.outputs.append(spec)
    return venue


def _output(c: _Checker, key: str, t: dict, canvas: tuple[int, int] | None, index: int) -> OutputSpec:
    o = OutputSpec(name=c.text(f"{key}.name", t.get("name", f"output{index + 1}")), index=index)
    bad = set(o.name) & set('/\\:*?"<>|') or o.name in (".", "..")
    if bad:
        raise c.fail(f"{key}.name", f"'{o.name}' cannot be a file name (screenshots use it)")
    if "monitor" in t:
        m = t["monitor"]
        o.monitor = c.integer(f"{key}.monitor", m, 0, 63) if not isinstance(m, str) else c.text(
            f"{key}.monitor", m)
    if "fullscreen" in t:
        if not isinstance(t["fullscreen"], bool):
            raise c.fail(f"{key}.fullscreen", f"expected true or false, got {t['fullscreen']!r}")
        o.fullscreen = t["fullscreen"]
    if "size" in t:
        o.size = c.ints(f"{key}.size", t["size"], 2, lo=16)
    if "layout" in t:
        o.layout = c.text(f"{key}.layout", t["layout"])
        try:
            parse_layout(o.layout)
        except LayoutError as exc:
            raise c.fail(f"{key}.layout", str(exc)) from None
    if "region" in t:
        o.region = _region(c, f"{key}.region", t["region"], canvas)
        if o.layout.partition(":")[0].strip().lower() != "flat":
            raise c.fail(f"{key}.region", "a region needs layout 'flat' (it cuts one camera's frustum)")
    if "corners" in t:
        v = t["corners"]
        if not isinstance(v, list) or len(v) != 4:
            raise c.fail(f"{key}.corners",
                         "expected 4 points: top-left, top-right, bottom-right, bottom-left")
        o.corners = [c.point(f"{key}.corners", p) for p in v]
        problem = corner_problem(o.corners)
        if problem:
            raise c.fail(f"{key}.corners", problem)
    if "mesh" in t:
        o.mesh = _mesh(c, f"{key}.mesh", t["mesh"])
    if "blend" in t:
        b = c.table(f"{key}.blend", t["blend"], BLEND_KEYS)
        o.blend = Blend(**{k: c.number(f"{key}.blend.{k}", b[k], *_BLEND_RANGES[k]) for k in b})
        if o.blend.left + o.blend.right > 1.0 or o.blend.top + o.blend.bottom > 1.0:
            raise c.fail(f"{key}.blend", "opposite edges overlap by more than the whole output")
    if "mask" in t:
        o.masks = _masks(c, f"{key}.mask", t["mask"])
    for name, lo, hi in (("brightness", 0.0, 4.0), ("gamma", 0.1, 10.0), ("black_level", 0.0, 0.5)):
        if name in t:
            setattr(o, name, c.number(f"{key}.{name}", t[name], lo, hi))
    return o


_BLEND_RANGES = {"left": (0.0, 1.0), "right": (0.0, 1.0), "top": (0.0, 1.0), "bottom": (0.0, 1.0),
                 "gamma": (0.1, 10.0), "exponent": (0.1, 10.0)}


def _region(c: _Checker, key: str, value, canvas: tuple[int, int] | None) -> tuple[int, int, int, int]:
    if canvas is None:
        raise c.fail(key, "a region needs [show] canvas = [W, H]")
    x, y, w, h = c.ints(key, value, 4)
    if w < 16 or h < 16:
        raise c.fail(key, f"region {w}x{h} is too small (16x16 at least)")
    if x + w > canvas[0] or y + h > canvas[1]:
        raise c.fail(key, f"region [{x}, {y}, {w}, {h}] reaches outside the canvas "
                          f"{canvas[0]}x{canvas[1]}")
    return x, y, w, h


def _mesh(c: _Checker, key: str, value) -> list[list[tuple[float, float]]]:
    if not isinstance(value, list) or len(value) < 3 or not all(isinstance(r, list) for r in value):
        raise c.fail(key, "expected rows of points (at least 3 rows of 3), "
                          "e.g. [[[0, 0], [0.5, 0], ...], ...]")
    rows = [[c.point(key, p) for p in row] for row in value]
    cols = len(rows[0])
    if cols < 3 or any(len(r) != cols for r in rows):
        raise c.fail(key, "every row needs the same number of points, at least 3")
    if len(rows) > 33 or cols > 33:
        raise c.fail(key, "at most 33x33 points")
    problem = mesh_problem(rows)
    if problem:
        raise c.fail(key, problem)
    return rows


def _masks(c: _Checker, key: str, value) -> list[Mask]:
    items = value if isinstance(value, list) else [value]
    out = []
    for k, item in enumerate(items):
        where = f"{key}[{k}]"
        t = c.table(where, item, MASK_KEYS)
        pts = t.get("points")
        if not isinstance(pts, list) or len(pts) < 3:
            raise c.fail(f"{where}.points", "expected a polygon of 3 or more points [x, y]")
        out.append(Mask([c.point(f"{where}.points", p) for p in pts],
                        c.number(f"{where}.feather", t.get("feather", 0.0), 0.0, 1.0)))
    return out


def identity_mesh(rows: int = 3, cols: int = 3) -> list[list[tuple[float, float]]]:
    """A regular grid: the mesh that changes nothing (calibration starts from it)."""
    return [[tuple(p) for p in row] for row in regular_mesh(rows, cols).tolist()]


def resolve_monitor(venue: Venue, spec: OutputSpec, monitors: list[dict]) -> int:
    """The monitor index an output asks for, checked against the monitors present."""
    key = f"{venue.label}: output[{spec.index}].monitor"
    if isinstance(spec.monitor, str):
        for m in monitors:
            if m["name"] == spec.monitor:
                return m["index"]
        names = ", ".join(m["name"] for m in monitors) or "none"
        raise VenueError(f"{key}: no monitor named '{spec.monitor}' (monitors: {names})")
    if not 0 <= spec.monitor < len(monitors):
        raise VenueError(f"{key}: monitor {spec.monitor} does not exist "
                         f"(monitors: 0..{len(monitors) - 1}; see 'symphony list')")
    return spec.monitor
