"""Where the engine finds its shaders, scenes and assets.

In a source checkout (or an editable install) they sit beside the `engine/` package at the
top of the repository; a built wheel carries copies inside `engine/_data/`.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the '{name}' folder beside {_PACKAGE}")


def shader_dir() -> Path:
    return _resource_dir("shaders")


def scene_dir() -> Path:
    return _resource_dir("scenes")


def asset_dir() -> Path:
    return _resource_dir("assets")
