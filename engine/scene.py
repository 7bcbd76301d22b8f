"""Scenes: Python files in `scenes/` with a `Scene` subclass, loaded by name or path.

A scene adds layers in `setup()`, reads the `Frame` of data in `update(frame)` and sets its
layers, camera and post settings. Everything else (clock, sources, solver stepping, drawing,
outputs) is the runtime's job.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from typing import ClassVar, TypeVar

from engine.camera import Camera
from engine.data import Frame
from engine.layers import Layer
from engine.paths import scene_dir
from engine.render.post import PostSettings
from engine.solver import FlowField

L = TypeVar("L", bound=Layer)


class SceneError(RuntimeError):
    """A scene that cannot be found or loaded; the message is shown as is."""


class Scene:
    """Base class of every scene. Configure with class attributes; override setup/update."""

    title: ClassVar[str] = "Untitled scene"
    background: ClassVar[tuple[float, float, float]] = (0.0, 0.0, 0.0)
    max_participants: ClassVar[int] = 16

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.layers: list[Layer] = []
        self.camera = Camera()
        self.post = PostSettings()
        self.field: FlowField | None = None
        self.time = 0.0

    def add(self, layer: L) -> L:
        """Add a drawable layer; layers draw in the order they were added."""
        self.layers.append(layer)
        return layer

    def setup(self) -> None:
        """Create layers and set the initial look. Called once, before the first frame."""

    def update(self, frame: Frame) -> None:
        """Read this frame's data and set layer, camera and post parameters."""

    def step(self, dt: float) -> None:
        """Advance the simulations: the flow field first, then each layer in order."""
        self.time += dt
        if self.field is not None:
            self.field.step(dt)
        for layer in self.layers:
            layer.step(dt, self.field)


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


def load_scene_class(ref: str) -> type[Scene]:
    """Import a scene file and return the Scene subclass it defines."""
    path = resolve_scene_path(ref)
    name = f"symphony_scene_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SceneError(f"cannot load scene file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise SceneError(f"{path.name}: {describe_exception(exc)}") from exc
    found = [
        obj for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Scene) and obj.__module__ == name
    ]
    if not found:
        raise SceneError(f"{path.name}: defines no Scene subclass")
    return found[0]


def describe_exception(exc: BaseException) -> str:
    """`Type: message (file.py:line)` for the innermost frame: one line for the operator."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


def create_scene(ref: str, seed: int = 0) -> Scene:
    cls = load_scene_class(ref)
    try:
        scene = cls(seed=seed)
        scene.setup()
    except Exception as exc:
        raise SceneError(f"{cls.__name__}.setup failed: {describe_exception(exc)}") from exc
    return scene
