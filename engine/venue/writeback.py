"""Calibration written back into the venue file, keeping its comments, order and layout.

Only the edited output's `corners` (and `mesh`, when it has one) change; everything else in
the file, comments included, is left byte for byte. The file is replaced atomically so a
crash mid-write never leaves half a venue.
"""

from __future__ import annotations

import os
from pathlib import Path

import tomlkit

from engine.venue.config import OutputSpec, VenueError


def _points(points) -> tomlkit.items.Array:
    arr = tomlkit.array()
    for x, y in points:
        arr.append([round(float(x), 5), round(float(y), 5)])
    return arr


def _set(table, key: str, value) -> None:
    """Replace a value, keeping the comment at the end of its line."""
    old = getattr(table.get(key), "trivia", None)
    table[key] = value
    if old is not None and old.comment:
        table[key].trivia.comment_ws, table[key].trivia.comment = old.comment_ws, old.comment


def save_mapping(path: str | Path, spec: OutputSpec) -> None:
    path = Path(path)
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    outputs = doc.get("output")
    if outputs is None or spec.index >= len(outputs):
        raise VenueError(f"{path.name}: output[{spec.index}]: no longer in the file; not saved")
    table = outputs[spec.index]
    if table.get("name", spec.name) != spec.name:
        raise VenueError(f"{path.name}: output[{spec.index}].name: the file now names it "
                         f"'{table.get('name')}', not '{spec.name}'; not saved")
    _set(table, "corners", _points(spec.corners))
    if spec.mesh is not None:
        mesh = tomlkit.array()
        for row in spec.mesh:
            mesh.append(_points(row))
        mesh.multiline(True)
        _set(table, "mesh", mesh)
    tmp = path.with_name(f".{path.name}.saving")
    tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
    os.replace(tmp, path)
