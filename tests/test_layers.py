"""Layers own their knobs: checked attributes over a private solver, the old `layer.solver`
warning once per name, the engine's presence pass, and the shared helpers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from engine import FlowField, ParticleLayer, Scene, StrandLayer, hue, mix, palette, smoothstep
from engine.clock import FixedClock
from engine.data import Participant
from engine.knobs import _warned
from engine.runtime import Show
from engine.sources import open_source


def person(slot: int, stale: bool = False) -> Participant:
    return Participant(f"p{slot:02d}", slot, {}, {}, 0.0, 0, 0.0, 0.0, 12.0, stale=stale)


def test_per_bundle_arrays_are_the_solvers_and_check_what_is_assigned():
    layer = StrandLayer(6, 2, 8)
    layer.radius[2] = 0.4
    layer.spin = 1.5  # a number fills every bundle
    layer.force = (0.0, 1.0, 0.0)  # one vector for every bundle
    assert layer._solver.radius[2] == np.float32(0.4) and (layer._solver.spin == 1.5).all()
    assert (layer._solver.force[:, 1] == 1.0).all() and layer.force.shape == (6, 3)
    with pytest.raises(ValueError, match=r"StrandLayer\.radius has shape \(6,\): cannot assign shape \(4,\)"):
        layer.radius = np.zeros(4)
    with pytest.raises(TypeError, match=r"StrandLayer\.stiffness takes a number, not str"):
        layer.stiffness = "hard"
    with pytest.raises(TypeError, match=r"StrandLayer\.origin takes numbers"):
        layer.origin = {"x": 1}
    layer.stiffness = 12
    assert layer._solver.stiffness == 12.0 and isinstance(layer._solver.stiffness, float)


def test_set_length_stretches_a_thread_to_that_length():
    layer = StrandLayer(1, 2, 20, height=3.0, ring_radius=0.0)
    layer.radius = 0.0
    layer.bundle_turns = 0.0
    layer.set_length(5.0)
    field = FlowField(resolution=8, seed=1, noise=0.0)
    for _ in range(60):
        layer.step(1 / 30, field)
    s = layer._solver
    tip, root = (s.points - 1) * s.strands, 0
    assert layer.height == 5.0
    assert s.y[tip] - s.y[root] == pytest.approx(5.0, rel=0.02)


def test_old_solver_names_still_work_and_warn_once_naming_the_new_attribute():
    _warned.clear()
    strands = StrandLayer(4, 2, 8)
    sparks = ParticleLayer(strands, 100)
    with pytest.warns(FutureWarning, match=r"solver.radius is deprecated.*use StrandLayer.radius"):
        strands.solver.radius[:] = 0.3
    assert (strands.radius == np.float32(0.3)).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        strands.solver.radius[0] = 0.1  # once per name: no second warning
    with pytest.warns(FutureWarning, match=r"use StrandLayer\.set_length\(length\)"):
        strands.solver.rest  # noqa: B018
    with pytest.warns(FutureWarning, match=r"ParticleLayer\.solver\.lift .* use ParticleLayer\.lift"):
        sparks.solver.lift = 0.7
    assert sparks.lift == 0.7
    with pytest.warns(FutureWarning, match="engine's own state"):
        strands.solver.lane  # noqa: B018


class TwoLayers(Scene):
    max_participants = 8

    def setup(self) -> None:
        self.field = FlowField(resolution=16, seed=self.seed)
        self.people = self.add(StrandLayer(8, 2, 8, seed=self.seed))
        self.halo = self.add(StrandLayer(8, 2, 8, seed=self.seed))
        self.halo.follow_participants = False
        self.seen: list[np.ndarray] = []

    def update(self, frame) -> None:
        self.seen.append(self.people.active.copy())  # what the engine set, before the scene


def test_the_engine_shows_present_participants_bundles_unless_the_layer_opts_out():
    scene = TwoLayers(seed=1)
    scene.setup()
    show = Show(scene, open_source("synthetic:participants=3,seed=2"), FixedClock(10))
    for _ in range(30):
        frame = show.advance()
    present = sorted(p.slot for p in frame.participants if not p.stale)
    assert present and list(np.flatnonzero(scene.seen[-1])) == present
    assert scene.halo.active.all()  # the scene's own: untouched
    layer = StrandLayer(4, 1, 4)
    layer.follow([person(1), person(2, stale=True), person(6)])  # slot 6 wraps onto bundle 2
    assert list(layer.active) == [0.0, 1.0, 1.0, 0.0]


def test_helpers():
    assert smoothstep(0.0, 1.0, -1.0) == 0.0 and smoothstep(0.0, 1.0, 2.0) == 1.0
    assert smoothstep(0.0, 2.0, 0.5) == pytest.approx(0.15625)
    assert smoothstep(1.0, 0.0, 0.25) == pytest.approx(0.84375)  # reversed edges fall
    assert mix(2.0, 4.0, 0.25) == 2.5
    np.testing.assert_allclose(mix(np.zeros(3), np.ones(3), 0.5), 0.5)
    np.testing.assert_allclose(hue(0.0), (1.0, 0.0, 0.0))
    np.testing.assert_allclose(hue(1 / 3), (0.0, 0.0, 1.0), atol=1e-6)
    np.testing.assert_allclose(hue(2 / 3), (0.0, 1.0, 0.0), atol=1e-6)
    np.testing.assert_allclose(hue(0.5, 0.0), (1.0, 1.0, 1.0))
    np.testing.assert_allclose(palette(0.0), (1.0, 0.25, 0.25), atol=1e-6)
    c = palette(0.3, a=(0.2, 0.2, 0.2), b=(0.1, 0.1, 0.1), c=(2.0, 2.0, 2.0), d=(0.0, 0.0, 0.0))
    assert c.dtype == np.float32 and c[0] == pytest.approx(0.2 + 0.1 * math.cos(2 * math.pi * 0.6))


def _roots_and_tips(layer: StrandLayer) -> tuple[np.ndarray, np.ndarray]:
    """(B, 2) x/z of each bundle's centre at the root and at the tip."""
    c = layer._solver.bundle_centres()
    return c[0][:, [0, 2]], c[-1][:, [0, 2]]


def _regroup(glide: float) -> tuple[np.ndarray, float]:
    """Four bundles settle, the last one leaves; returns the root path of bundle 1 over the
    next 4 s and the most any bundle leaned (tip off its root) on the way."""
    layer = StrandLayer(4, 3, 16, seed=2)
    layer.glide = glide
    for _ in range(30):
        layer.step(1 / 30, None)
    layer.active[3] = 0.0
    path, lean = [], 0.0
    for _ in range(120):
        layer.step(1 / 30, None)
        roots, tips = _roots_and_tips(layer)
        path.append(roots[1])
        lean = max(lean, float(np.linalg.norm(tips[:3] - roots[:3], axis=1).max()))
    return np.array(path), lean


def test_roots_glide_to_their_new_places_when_the_ring_respaces():
    jump_path, jump_lean = _regroup(0.0)
    path, lean = _regroup(StrandLayer(1, 1, 2).glide)
    np.testing.assert_allclose(path[-1], jump_path[-1], atol=0.02)  # the same new place
    total = float(np.linalg.norm(path[-1] - path[0]))
    moves = np.linalg.norm(np.diff(path, axis=0), axis=1)
    assert total > 0.5  # bundle 1 really had to move (a twelfth of the way round the ring)
    # (a bundle's centre wobbles a little as its strands spin round the spine)
    assert np.linalg.norm(jump_path[0] - jump_path[-1]) < 0.05 * total  # without glide: in one frame
    assert moves.max() < 0.15 * total and (moves > 0.01).sum() >= 20  # with it: over many
    assert lean < 0.5 * jump_lean, (lean, jump_lean)  # and the strands do not whip


def test_a_participant_who_left_fades_out_and_then_the_others_close_the_ring():
    layer = StrandLayer(3, 2, 8, seed=1)
    layer.spin = 0.0  # (spinning strands move a bundle's centre a little)
    here = [person(0), person(1), person(2)]
    layer.follow(here)
    for _ in range(10):
        layer.follow(here, 1 / 30)
        layer.step(1 / 30, None)
    assert list(layer.active) == [1.0, 1.0, 1.0]
    gone = here[:2] + [person(2, stale=True)]
    alphas, roots = [], []
    for _ in range(60):
        layer.follow(gone, 1 / 30)
        layer.step(1 / 30, None)
        alphas.append(float(layer.active[2]))
        roots.append(_roots_and_tips(layer)[0][1].copy())
    alphas = np.array(alphas)
    faded = int(np.argmax(alphas == 0.0))
    assert alphas[0] == pytest.approx(1 - (1 / 30) / layer.fade_out, abs=1e-6)  # not snapped off
    assert (np.diff(alphas) <= 0).all() and faded == pytest.approx(45, abs=1)  # 1.5 s, steadily
    moved = np.linalg.norm(np.diff(np.array(roots), axis=0), axis=1)
    assert moved[: faded - 1].max() < 1e-6  # while it fades, everyone keeps their place...
    assert moved[faded:].max() > 1e-3  # ...then the others glide round to close the gap
    back = [person(0), person(1), person(2)]
    layer.follow(back, 1 / 30)
    assert 0.0 < layer.active[2] < 1.0  # a newcomer lights up over fade_in
