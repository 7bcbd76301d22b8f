"""Layer attributes that live in the layer's private solver, checked as they are set.

Why: an artist turns a layer's knobs (`strands.radius[b]`, `strands.stiffness`) without
knowing about the Numba solver behind it, and a wrong shape or type fails at once with the
attribute's name instead of deep inside a kernel. `SolverShim` keeps scenes written against
the old `layer.solver.<name>` running for one release, warning once per name.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np


class Knob:
    """A number kept in the solver (read and written through the layer)."""

    def __init__(self, name: str, doc: str) -> None:
        self.name, self.__doc__ = name, doc

    def __get__(self, layer, owner=None):
        if layer is None:
            return self
        return getattr(layer._solver, self.name)

    def __set__(self, layer, value) -> None:
        if not isinstance(value, numbers.Real):
            raise TypeError(f"{type(layer).__name__}.{self.name} takes a number, not "
                            f"{type(value).__name__}")
        setattr(layer._solver, self.name, float(value))


class ArrayKnob(Knob):
    """A float32/int array kept in the solver: index it to change one entry; assigning a whole
    value (a scalar, or an array of its shape or one that broadcasts to it) fills it in place."""

    def __get__(self, layer, owner=None):
        if layer is None:
            return self
        return getattr(layer._solver, self.name)

    def __set__(self, layer, value) -> None:
        target = getattr(layer._solver, self.name)
        where = f"{type(layer).__name__}.{self.name}"
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{where} takes numbers, not {type(value).__name__}") from None
        try:
            target[...] = np.broadcast_to(array, target.shape)
        except ValueError:
            raise ValueError(f"{where} has shape {target.shape}: cannot assign shape "
                             f"{array.shape}") from None


_warned: set[tuple[str, str]] = set()


class SolverShim:
    """`layer.solver` for scenes written before layers owned their knobs: forwards to the
    private solver and warns once per name, naming the layer attribute to use instead."""

    def __init__(self, solver, layer_type: type, moved: dict[str, str]) -> None:
        object.__setattr__(self, "_target", (solver, layer_type, moved))

    def _warn(self, name: str) -> None:
        _, layer_type, moved = object.__getattribute__(self, "_target")
        cls = layer_type.__name__
        if (cls, name) in _warned:
            return
        _warned.add((cls, name))
        if name in moved:
            instead = f"use {cls}.{moved[name]}"
        elif hasattr(layer_type, name):
            instead = f"use {cls}.{name}"
        else:
            instead = "it is the engine's own state, with no replacement"
        warnings.warn(f"{cls}.solver.{name} is deprecated and goes away in the next release: "
                      f"{instead}", FutureWarning, stacklevel=3)

    def __getattr__(self, name: str):
        self._warn(name)
        return getattr(object.__getattribute__(self, "_target")[0], name)

    def __setattr__(self, name: str, value) -> None:
        self._warn(name)
        setattr(object.__getattribute__(self, "_target")[0], name, value)
