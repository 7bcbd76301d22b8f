"""Scenes: Python files in `scenes/` with a `Scene` subclass, loaded by name or path.

A scene adds layers in `setup()`, reads the `Frame` of data in `update(frame)` and sets its
layers, camera and post settings. Everything else (clock, sources, solver stepping, drawing,
outputs) is the runtime's job.
"""

from __future__ import annotations

import difflib
import importlib.util
import logging
import sys
import traceback
from pathlib import Path
from typing import ClassVar, TypeVar

from engine import kernel_cache
from engine.camera import Camera
from engine.data import CHANNELS, DERIVED, Frame
from engine.layers import Layer, follow_participants
from engine.params import (
    CURVES,
    Binding,
    Param,
    ParamError,
    ParamState,
    load_preset,
    save_preset,
    scene_params,
)
from engine.paths import scene_dir
from engine.post_settings import PostSettings
from engine.solver import FlowField

L = TypeVar("L", bound=Layer)


_UNKNOWN_CHANNELS: set[str] = set()  # bound channel names already warned about

class SceneError(RuntimeError):
    """A scene that cannot be found or loaded; the message is shown as is."""


class Scene:
    """Base class of every scene. Configure with class attributes; override setup/update."""

    title: ClassVar[str] = "Untitled scene"
    background: ClassVar[tuple[float, float, float]] = (0.0, 0.0, 0.0)
    max_participants: ClassVar[int] = 16

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        check_scene_class(cls)

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.layers: list[Layer] = []
        self.camera = Camera()
        self.post = PostSettings()
        self.field: FlowField | None = None
        self.time = 0.0
        self._params = {name: ParamState(p.default, p.default)
                        for name, p in scene_params(type(self)).items()}
        self._bindings: list[Binding] = []
        self._touched: set[str] = set()  # parameters assigned since creation (by setup)
        self._added: list[Layer] = []  # every layer add() saw, in order: live reload matches by it

    # -- parameters ------------------------------------------------------------------------
    @classmethod
    def params(cls) -> dict[str, Param]:
        """The declared parameters, by name (ranges, defaults, smoothing, docs)."""
        return scene_params(cls)

    def bind(self, param: str, channel: str, input: tuple[float, float],
             output: tuple[float, float] | None = None, *, curve: str = "linear",
             participant: str | None = None) -> Binding:
        """Drive a parameter from a channel: input range → output range (default: the
        parameter's range) through a curve; the parameter's own smoothing applies."""
        spec = self.params().get(param)
        if spec is None:
            raise ParamError(f"{type(self).__name__} has no parameter '{param}'")
        if curve not in CURVES:
            raise ParamError(f"unknown curve '{curve}' (curves: {', '.join(CURVES)})")
        known = channel in CHANNELS or channel in DERIVED
        if not known and channel not in _UNKNOWN_CHANNELS:  # a typo binds to nothing
            _UNKNOWN_CHANNELS.add(channel)
            close = difflib.get_close_matches(channel, [*CHANNELS, *DERIVED], n=1)
            logging.getLogger("symphony").warning(
                "%s.bind('%s', '%s'): no such channel%s; the binding stays idle until one arrives",
                type(self).__name__, param, channel, f" (did you mean '{close[0]}'?)" if close else "")
        binding = Binding(param, channel, tuple(input), tuple(output or (spec.low, spec.high)),
                          curve, participant)
        self._bindings = [b for b in self._bindings if b.param != param] + [binding]
        return binding

    def preset(self) -> dict[str, float]:
        """Current parameter targets, ready to save."""
        return {name: state.target for name, state in self._params.items()}

    def save_preset(self, path: str | Path) -> None:
        save_preset(Path(path), self.preset())

    def load_preset(self, path: str | Path) -> None:
        """Recall saved targets (unknown names are ignored: scenes evolve)."""
        specs = self.params()
        for name, value in load_preset(Path(path)).items():
            if name in specs:
                self._params[name].target = specs[name].clamp(value)

    def add(self, layer: L) -> L:
        """Add a drawable layer; layers draw in the order they were added. A scene may later
        change `self.layers` (which layers are simulated and drawn, in which order)."""
        self.layers.append(layer)
        self._added.append(layer)
        return layer

    def setup(self) -> None:
        """Create layers and set the initial look. Called once, before the first frame."""

    def update(self, frame: Frame) -> None:
        """Read this frame's data and set layer, camera and post parameters."""



# The engine's per-frame machinery lives here, not on the artist's base class: a scene cannot
# shadow it by accident (a `step` method of its own would silently stop the simulation).
_ENGINE_CALLS = "part of the Scene API the engine and operators call: call it, don't redefine it"
RESERVED: dict[str, str] = {
    "step": "the engine advances the simulation each frame itself (per-frame work goes in "
            "update(frame))",
    "apply_bindings": "the engine applies bindings each frame itself (declare them with "
                      "self.bind(...) in setup())",
    "param_state": "the engine keeps parameter state itself (read a Param as self.<name>)",
    "_params": "the engine keeps parameter state in it",
    "_bindings": "the engine keeps the scene's bindings in it",
    "_touched": "live reload keeps the parameters setup() assigned in it",
    "_added": "live reload matches layers by it",
    "follow_presence": "the engine shows present participants' bundles itself (set "
                       "layer.follow_participants = False to decide in update())",
    **{name: _ENGINE_CALLS for name in ("add", "bind", "params", "preset", "save_preset",
                                          "load_preset")},
}


def check_scene_class(cls: type) -> None:
    """Refuse a Scene subclass that defines a name the engine reserves (SceneError, one line)."""
    for name, why in RESERVED.items():
        if name in vars(cls):
            raise SceneError(f"{cls.__name__} defines `{name}`, a name the engine reserves: {why}")


def all_layers(scene: Scene) -> list[Layer]:
    """Every layer of a scene in a stable order, whatever it keeps in `layers` now: those it
    added (in the order of `add`), then any it put in `layers` by hand."""
    added = {id(layer) for layer in scene._added}
    return [*scene._added, *(layer for layer in scene.layers if id(layer) not in added)]


def param_state(scene: Scene, name: str) -> ParamState:
    """A parameter's live state (value gliding towards target): for the engine and operators."""
    try:
        return scene._params[name]
    except KeyError:
        raise ParamError(f"{type(scene).__name__} has no parameter '{name}'") from None


def apply_bindings(scene: Scene, frame: Frame) -> None:
    """Set bound parameters' targets from this frame, then glide every parameter."""
    specs = scene.params()
    for b in scene._bindings:
        value = b.value(frame)
        if value is not None:
            scene._params[b.param].target = specs[b.param].clamp(value)
    for name, state in scene._params.items():
        state.advance(frame.dt, specs[name].smoothing)


def follow_presence(scene: Scene, frame: Frame) -> None:
    """Before update(): bundles of layers that follow participants (the default) show while
    their participant is present; a scene that sets `follow_participants = False` decides."""
    follow_participants(all_layers(scene), frame.participants, frame.dt)


def step_scene(scene: Scene, dt: float) -> None:
    """Advance the simulations: the flow field first, then each layer in order."""
    scene.time += dt
    if scene.field is not None:
        scene.field.step(dt)
    for layer in scene.layers:
        layer.step(dt, scene.field)


def list_scenes(folder: Path | None = None) -> list[str]:
    folder = folder or scene_dir()
    return sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_"))


def resolve_scene_path(ref: str) -> Path:
    path = Path(ref)
    if path.suffix == ".py" or path.exists():
        if not path.is_file():
            raise SceneError(f"scene file not found: {ref}")
        return path.resolve()
    candidate = scene_dir() / f"{ref}.py"
    if not candidate.is_file():
        known = ", ".join(list_scenes()) or "none"
        raise SceneError(f"unknown scene '{ref}' (scenes: {known})")
    return candidate


_loads = 0


def load_scene_class(ref: str) -> type[Scene]:
    """Import a scene file (afresh each call, for live reload) and return its Scene subclass."""
    global _loads
    kernel_cache.prepare()  # loading a scene is where every runner starts
    path = resolve_scene_path(ref)
    _loads += 1
    name = f"symphony_scene_{path.stem}_{_loads}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SceneError(f"cannot load scene file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SceneError as exc:  # a refused class: its own one line says why
        raise SceneError(f"{path.name}: {exc}") from exc
    except Exception as exc:
        raise SceneError(f"{path.name}: {describe_exception(exc)}") from exc
    found = [
        obj for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Scene) and obj.__module__ == name
    ]
    if not found:
        raise SceneError(f"{path.name}: defines no Scene subclass")
    return found[0]


_ENGINE_DIR = str(Path(__file__).resolve().parent)


def describe_exception(exc: BaseException) -> str:
    """`Type: message (file.py:line)`: one line for the operator, pointing into the artist's
    own file when the error passed through it (not into engine or library internals)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"SyntaxError: {exc.msg} ({Path(exc.filename).name}:{exc.lineno})"
    tb = traceback.extract_tb(exc.__traceback__)
    user = [f for f in tb if not f.filename.startswith(_ENGINE_DIR) and "site-packages" not in
            f.filename and not f.filename.startswith("<frozen")]
    frame = (user or tb)[-1] if tb else None
    where = f" ({Path(frame.filename).name}:{frame.lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


def create_scene(ref: str, seed: int = 0) -> Scene:
    cls = load_scene_class(ref)
    try:
        scene = cls(seed=seed)
        scene.setup()
    except Exception as exc:
        raise SceneError(f"{cls.__name__}.setup failed: {describe_exception(exc)}") from exc
    return scene
