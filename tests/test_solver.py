"""The Numba solver: agreement with the numpy reference, exact strand lengths, braiding and
separation, divergence-free flow, bounded energy, no NaN, bit-identical determinism."""

from __future__ import annotations

import numpy as np
import pytest

from engine.solver import FlowField, ParticleSolver, StrandSolver
from engine.solver import fluid_kernels as fk
from engine.solver import particles as pk
from engine.solver import strands as sk
from tests import solver_reference as ref

F32 = np.float32


def stirred_field(resolution: int = 16, seed: int = 3) -> FlowField:
    f = FlowField(resolution, extent=8.0, seed=seed)
    f.vortex((0.5, 0.0, 0.0), (0, 1, 0), 2.0, 1.5)
    f.jet((0.0, 1.0, 0.0), (1, 0, 0), 1.0, 1.0)
    f.attract((0.0, -1.0, 0.0), 1.0, 1.0)
    return f


# -- agreement with the numpy reference --------------------------------------------------
def test_field_step_matches_reference():
    f = stirred_field()
    expected = ref.field_step(f, 1 / 30)
    f.step(1 / 30)
    np.testing.assert_allclose(f.grid, expected, atol=2e-3 * np.abs(expected).max())


def test_vector_advection_is_bitwise_the_scalar_one():
    """`advect` runs eight nodes of a row at a time in vector code; node by node through
    `advect_one` (the path of rows shorter than eight) must give the same bits."""
    f = stirred_field(resolution=8)
    f.step(1 / 30)
    f.offset[:] = (0.37, -1.21, 2.9)  # a scroll that wraps the noise in every axis
    r, inv, dt, keep, noise = f.resolution, f.inv_cell, F32(1 / 30), F32(0.97), F32(f.noise)
    vector = [np.zeros(r**3, F32) for _ in range(3)]
    fk.advect(f.grid, *vector, r, inv, dt, keep, f.noise_grid, f.offset, noise)
    scalar = [np.zeros(r**3, F32) for _ in range(3)]
    cell, half, m = F32(1 / inv), F32(0.5 * r), r - 1
    g = f.offset * inv
    ix, iy, iz = (int(np.floor(v)) & m for v in g)
    fx, fy, fz = (F32(v - np.floor(v)) for v in g)
    for z in range(r):
        for y in range(r):
            rows = tuple(np.uint64(4 * ((((z + iz + dz) & m) * r + ((y + iy + dy) & m)) * r))
                         for dz in (0, 1) for dy in (0, 1))
            py, pz = (F32(y) - half) * cell, (F32(z) - half) * cell
            for x in range(r):
                fk.advect_one(f.grid, *scalar, f.noise_grid, np.uint64((z * r + y) * r), x, py,
                              pz, r, inv, cell, half, dt, keep, rows, ix, np.uint32(m), fx, fy,
                              fz, noise * dt)
    for a, b in zip(vector, scalar, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.abs(vector[0]).max() > 0


def test_particle_advance_matches_reference():
    f = stirred_field()
    f.step(1 / 30)
    rng = np.random.default_rng(0)
    n = 4000
    x, y, z = (rng.uniform(-3, 3, n).astype(F32) for _ in range(3))
    age = rng.uniform(0, 2, n).astype(F32)
    life = np.full(n, 3.0, F32)
    want = ref.particles_advance(x, y, z, age, life, 1 / 30, f.grid, f.resolution, f.inv_cell,
                                 0.7, 0.1)
    fade = np.zeros(n, F32)
    dead = np.full(n // 8 + 1, 7, np.uint8)
    pk.advance(x, y, z, age, life, fade, F32(1 / 30), f.grid, f.resolution, f.inv_cell,
               F32(0.7), F32(0.1), dead)
    for got, exp in zip((x, y, z, age, fade), want, strict=True):
        np.testing.assert_allclose(got, exp, atol=1e-5)
    assert not dead.any()  # everyone is younger than 3 s


def test_advance_marks_exactly_the_blocks_with_a_death():
    """respawn visits only the blocks of eight that advance marked: a death it missed would
    leave a particle dead for good."""
    f = stirred_field()
    n = 1003  # 125 blocks and a tail of 3
    rng = np.random.default_rng(2)
    x, y, z = (rng.uniform(-3, 3, n).astype(F32) for _ in range(3))
    life = np.full(n, 2.0, F32)
    age = np.zeros(n, F32)
    dying = np.array([0, 17, 18, 640, 1001])
    age[dying] = 1.99  # one step of 1/30 s takes them past their lifetime
    age[500] = np.nan  # garbage counts as dead, as respawn reads it
    dead = np.zeros(n // 8 + 1, np.uint8)
    pk.advance(x, y, z, age, life, np.zeros(n, F32), F32(1 / 30), f.grid, f.resolution,
               f.inv_cell, F32(0.7), F32(0.1), dead)
    np.testing.assert_array_equal(np.flatnonzero(dead), np.unique(np.r_[dying, 500] // 8))


def test_garbage_particles_are_reborn():
    s = StrandSolver(3, 4, 8, seed=0)
    p = ParticleSolver(203, seed=4)
    f = FlowField(8, seed=0)
    p.step(1 / 30, f, s)
    p.age[[5, 202]] = np.nan  # one in a block of eight, one in the tail
    p.life[77] = np.nan
    p.step(1 / 30, f, s)
    assert np.isfinite(p.age).all() and np.isfinite(p.life).all() and np.isfinite(p.x).all()


@pytest.mark.parametrize("n", [8, 1003])
def test_vector_and_scalar_advance_are_bitwise_equal(n):
    """`advance` runs blocks of eight in vector code and the last n mod 8 one by one: rotating
    the arrays moves particles between the two paths, and no bit may change."""
    f = stirred_field()
    f.step(1 / 30)
    rng = np.random.default_rng(5)
    state = [rng.uniform(-5, 5, n).astype(F32) for _ in range(3)]  # some outside the grid
    state += [rng.uniform(0, 3, n).astype(F32), rng.uniform(1, 4, n).astype(F32),
              np.zeros(n, F32)]
    shift = 5
    results = []
    for roll in (0, shift):
        arrays = [np.roll(a, roll) for a in state]
        dead = np.zeros(n // 8 + 1, np.uint8)
        pk.advance(*arrays, F32(1 / 30), f.grid, f.resolution, f.inv_cell, F32(0.9), F32(0.2),
                   dead)
        results.append([np.roll(a, -roll) for a in arrays])
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(results[0][0], state[0])  # they moved


@pytest.mark.parametrize("cells_per_block", [1, 2, 3, 4, 8])
def test_advance_by_shared_cells_is_bitwise_the_scalar_one(cells_per_block):
    """Blocks of eight whose particles share a few cells load each cell's corners once and
    broadcast them (simd.py); more cells than that are gathered per particle. Either way the
    bits must be those of the one-by-one path (`advance_one`, here a particle at a time)."""
    f = stirred_field()
    f.step(1 / 30)
    rng = np.random.default_rng(cells_per_block)
    blocks, cell = 64, f.extent / f.resolution
    # each block's lanes spread over `cells_per_block` cells, some on the grid's wrapped edge
    corner = rng.integers(-f.resolution // 2, f.resolution // 2, (blocks, cells_per_block, 3))
    corner[::5, 0] = f.resolution // 2 - 1  # the last cell: its far corners wrap to the first
    pick = rng.integers(0, cells_per_block, (blocks, 8))
    pick[:, 0] = np.arange(blocks) % cells_per_block  # a lane-0 cell that is not always first
    at = corner[np.arange(blocks)[:, None], pick] + rng.uniform(0.02, 0.98, (blocks, 8, 3))
    x, y, z = (np.ascontiguousarray(at[..., k].ravel() * cell, F32) for k in range(3))
    age, life = rng.uniform(0, 3, blocks * 8).astype(F32), rng.uniform(1, 4, blocks * 8).astype(F32)
    n = len(x)
    state = [x, y, z, age, life, np.zeros(n, F32)]
    args = (F32(1 / 30), f.grid, f.resolution, f.inv_cell, F32(0.9), F32(0.2))
    vector = [a.copy() for a in state]
    dead = np.zeros(n // 8 + 1, np.uint8)
    pk.advance(*vector, *args, dead)
    single = [a.copy() for a in state]
    one_dead = np.zeros(1, np.uint8)
    died = np.zeros(n, bool)
    for i in range(n):  # arrays of one: the scalar tail path
        views = [a[i:i + 1] for a in single]
        pk.advance(*views, *args, one_dead)
        died[i] = one_dead[0] == 1
    for a, b in zip(vector, single, strict=True):
        np.testing.assert_array_equal(a, b)
    bits = np.unpackbits(dead[: n // 8, None], axis=1, bitorder="little").ravel().astype(bool)
    np.testing.assert_array_equal(bits, died)  # the death mask marks exactly who died
    assert died.any() and not died.all()


def test_respawn_matches_reference_hash():
    s = StrandSolver(3, 4, 8, seed=0)
    p = ParticleSolver(500, seed=11, sort_blocks=0)  # slots stay put: compare slot by slot
    f = FlowField(8, seed=0)
    p.step(1 / 30, f, s)  # everyone is born once
    idx = np.arange(p.count)
    u = ref.uniform(11, idx, np.full(p.count, 6, np.uint64))  # counter 8·0 + 6: lifetime draw
    np.testing.assert_allclose(p.life, p.life_min + (p.life_max - p.life_min) * u, rtol=1e-6)
    strand = np.minimum(idx * 12 // p.count, 11)  # slots shared out among the 12 strands
    np.testing.assert_array_equal(p.owner, s.bundle_of[strand])
    # and the whole kernel agrees with the numpy reference from the same state
    q = ParticleSolver(500, seed=11, sort_blocks=0)
    q.step(1 / 30, f, s)
    for arr in (q.age, p.age):
        arr[::7] = 99.0  # every 7th particle dies
    p.step(0.0, f, s)
    ref.particles_respawn(q, s)
    for name in ("x", "y", "z", "age", "life", "tint", "owner", "spawns"):
        np.testing.assert_allclose(getattr(p, name), getattr(q, name), rtol=1e-6, err_msg=name)


def test_block_sort_reorders_particles_by_cell_and_loses_none():
    f = FlowField(16, seed=0)
    s = StrandSolver(4, 3, 16, seed=0)
    p = ParticleSolver(4000, seed=3)
    for _ in range(40):  # long enough for particles to drift and be reborn out of order
        p.step(1 / 30, f, s)
        f.step(1 / 30)
    before = {name: getattr(p, name).copy() for name in
              ("x", "y", "z", "age", "life", "fade", "tint", "owner", "spawns")}
    block = p.order.next
    lo, hi = block * p.order.size, min(p.count, (block + 1) * p.order.size)
    p.order.sort_next(p, f.resolution, f.extent)
    rows = lambda src, sl: sorted(zip(*(src[k][sl].tolist() for k in before), strict=True))  # noqa: E731
    now = {k: getattr(p, k) for k in before}
    assert rows(now, slice(lo, hi)) == rows(before, slice(lo, hi))  # a permutation of the block
    for k in before:  # the other blocks are untouched
        np.testing.assert_array_equal(now[k][:lo], before[k][:lo])
        np.testing.assert_array_equal(now[k][hi:], before[k][hi:])
    r = f.resolution  # the field's own cells, as the advance kernel finds them

    def keys(src):
        c = [np.floor(src[a][lo:hi] * r / f.extent + r / 2).astype(int) % r for a in "xyz"]
        return (c[2] * r + c[1]) * r + c[0]

    assert (np.diff(keys(now)) >= 0).all()  # sorted by cell
    assert not (np.diff(keys(before)) >= 0).all()  # after 8 steps of drift it no longer was


def test_braid_targets_match_reference():
    s = StrandSolver(6, 5, 16, seed=1)
    s.active[:] = [1, 0, 1, 1, 1, 0]
    s.togetherness = 0.7
    s.braid_phase = 0.4
    s._update_layout()
    s._targets()
    for got, exp in zip((s.tx, s.ty, s.tz), ref.braid_targets(s), strict=True):
        np.testing.assert_allclose(got, exp.ravel(), atol=5e-5)


def test_strand_substep_matches_reference():
    f = stirred_field()
    s = StrandSolver(3, 8, 20, seed=2)
    s.togetherness = 0.5
    s.force[1] = (0.0, 2.0, 0.0)
    for _ in range(5):
        s.step(1 / 60, f)
    s._targets()
    h = 1 / 60
    x, y, z = ref.strand_integrate(s, h, f.grid, f.resolution, f.inv_cell,
                                   s.field_force * f.strength)
    ref.strand_constraints(x, y, z, s.rest.astype(np.float64), s.iterations, s.bending)
    sk.integrate(s.x, s.y, s.z, s.px, s.py, s.pz, s.tx, s.ty, s.tz, s.strands, s.points,
                 s.bundle_of, s.force, F32(h), F32(s.damping ** (h * 60)), F32(s.stiffness), f.grid,
                 f.resolution, f.inv_cell, F32(s.field_force * f.strength), s._field_scratch)
    sk.constrain(s.x, s.y, s.z, s.strands, s.points, s.rest, s.iterations, F32(s.bending), False)
    for got, exp in zip((s.x, s.y, s.z), (x, y, z), strict=True):
        np.testing.assert_allclose(got, exp.ravel(), atol=2e-4)


# -- physical properties -----------------------------------------------------------------
def run(strands: StrandSolver, field: FlowField, steps: int, dt: float = 1 / 30) -> None:
    for k in range(steps):
        strands.togetherness = 0.5 + 0.5 * np.sin(k * 0.05)
        strands.step(dt, field)
        field.step(dt)


def test_segments_keep_their_rest_length():
    field = FlowField(16, seed=1, strength=3.0)
    s = StrandSolver(4, 6, 32, seed=2)
    run(s, field, 200)
    lengths = s.segment_lengths()
    np.testing.assert_allclose(lengths, np.broadcast_to(s.rest, lengths.shape), rtol=1e-4)
    n = s.strands
    np.testing.assert_allclose(s.x[:n], s.tx[:n], atol=1e-6)  # roots pinned to their targets


def test_togetherness_draws_bundles_into_one_braid():
    def mid_radius(t: float) -> float:
        s = StrandSolver(6, 4, 24, seed=0)
        s.togetherness = t
        for _ in range(90):
            s.step(1 / 30)
        c = s.bundle_centres()[s.points // 2]
        return float(np.hypot(c[:, 0], c[:, 2]).mean())

    apart, braided = mid_radius(0.0), mid_radius(1.0)
    assert apart > 1.4
    assert braided < 0.6 * apart


def test_braided_bundles_do_not_pass_through_each_other():
    s = StrandSolver(8, 6, 48, seed=4)
    s.togetherness = 1.0
    closest = []
    for _ in range(240):
        s.step(1 / 30)
        c = s.bundle_centres()[1:]  # (M-1, B, 3), roots excluded
        d = np.linalg.norm(c[:, :, None, [0, 2]] - c[:, None, :, [0, 2]], axis=-1)
        d[:, np.arange(8), np.arange(8)] = np.inf
        closest.append(d.min())
    # bundle centres stay at least a bundle radius apart in every cross-section
    assert min(closest[60:]) > 1.0 * s.radius.max()


def test_extreme_forces_stay_finite_and_bounded():
    field = FlowField(16, seed=3, strength=50.0, noise=100.0)
    s = StrandSolver(3, 5, 20, seed=1)
    s.stiffness = 5000.0
    s.field_force = 50.0
    energies = []
    for k in range(150):
        for b in range(8):
            field.vortex((np.cos(b), 0.0, np.sin(b)), (0, 1, 0), 1e4, 1.0)
            field.jet((0.0, 0.0, 0.0), (1, 1, 0), 1e4, 2.0)
        field.step(0.2)
        s.togetherness = (k % 20) / 20
        s.step(0.2, field)
        energies.append(field.kinetic_energy())
    for a in (s.x, s.y, s.z, field.grid):
        assert np.isfinite(a).all()
    # decay bounds the energy: it levels off instead of growing step after step
    assert max(energies[100:]) < 2.0 * max(energies[50:100])
    assert np.abs(s.y).max() < s.height / 2 + s.rest.sum() * 1.001  # inextensible


def test_projection_leaves_no_divergence():
    f = stirred_field(32)
    for _ in range(5):
        f.vortex((1.0, 0.0, 0.0), (0, 0, 1), 5.0, 1.5)
        f.attract((-1.0, 0.5, 0.0), 5.0, 1.5)
        f.step(1 / 30)
    div = f.divergence()
    r, h = f.resolution, f.extent / f.resolution
    g = f.grid.reshape(r, r, r, 4)
    scale = np.abs(np.diff(g[..., 0], axis=2)).mean() / h  # typical velocity gradient
    assert np.abs(div).max() < 1e-4 * scale


def test_trilinear_sampling_hits_grid_values_at_nodes():
    f = stirred_field(16)
    r, h = f.resolution, f.extent / f.resolution
    i, j, k = 3, 5, 7
    p = (np.array([i, j, k], np.float32) - r / 2) * h
    v = f.sample(p[:1], p[1:2], p[2:])
    node = f.grid.reshape(r, r, r, 4)[k, j, i, :3]
    np.testing.assert_allclose(v[0], node, rtol=1e-5, atol=1e-6)


def test_particles_respawn_on_active_strands_only():
    field = FlowField(16, seed=0)
    s = StrandSolver(4, 3, 16, seed=0)
    s.active[:] = [1, 0, 1, 0]
    p = ParticleSolver(20000, seed=1)
    for _ in range(200):  # long enough for every particle to have died at least once
        p.step(1 / 30, field, s)
        field.step(1 / 30)
    assert p.alive_fraction > 0.95
    assert set(np.unique(p.owner)) <= {0, 2}
    assert np.isfinite(p.x).all() and np.abs(p.x).max() < 10
    assert p.tint.min() >= 0.0 and p.tint.max() < 1.0


@pytest.mark.parametrize("steps", [1000])
def test_solver_is_bit_identical_run_to_run(steps):
    def once():
        field = FlowField(16, seed=5)
        s = StrandSolver(4, 8, 24, seed=5)
        p = ParticleSolver(5000, seed=5)
        for k in range(steps):
            s.togetherness = (k % 60) / 60
            s.active[k % 4] = float(k % 7 != 0)
            field.vortex((0.0, 0.0, 0.0), (0, 1, 0), 2.0, 1.0)
            field.step(1 / 30)
            s.step(1 / 30, field)
            p.step(1 / 30, field, s)
        return np.concatenate([field.grid, s.x, s.y, s.z, p.x, p.y, p.z, p.fade])

    a, b = once(), once()
    assert np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)


def test_cell_polynomial_midpoint_stays_close_to_sampling_the_neighbour_cell():
    # the kernel takes the midpoint velocity from the particle's own cell polynomial; where
    # the half step crosses a face, sampling the neighbour cell instead differs only a little
    f = stirred_field()
    f.step(1 / 30)
    rng = np.random.default_rng(1)
    n = 20000
    x, y, z = (rng.uniform(-3, 3, n) for _ in range(3))
    dt, speed, lift = 1 / 30, 0.7, 0.1
    nx, ny, nz, _, _ = ref.particles_advance(x, y, z, np.zeros(n), np.full(n, 3.0), dt, f.grid,
                                             f.resolution, f.inv_cell, speed, lift)
    h = 0.5 * dt * speed
    u = ref.sample(f.grid, f.resolution, f.inv_cell, x, y, z)
    mid = ref.sample(f.grid, f.resolution, f.inv_cell, x + u[:, 0] * h,
                     y + (u[:, 1] + lift / speed) * h, z + u[:, 2] * h)
    exact = np.stack([x + mid[:, 0] * dt * speed, y + mid[:, 1] * dt * speed + lift * dt,
                      z + mid[:, 2] * dt * speed], axis=1)
    ours = np.stack([nx, ny, nz], axis=1)
    step = np.linalg.norm(exact - np.stack([x, y, z], axis=1), axis=1)
    err = np.linalg.norm(ours - exact, axis=1)
    assert err.max() < 0.05 * step.max()
    assert np.mean(err > 1e-9) < 0.5  # most midpoints stay inside the cell: identical there


def test_no_kernel_unpacks_array_views_in_one_tuple():
    """Numba 0.68's parfor silently drops a parallel loop's stores when four or more array
    views are unpacked in one tuple assignment (`a, b, c, d = m[0], m[1], m[2], m[3]`;
    found while writing particle kernels). Keep kernels to one view per line."""
    import re
    from pathlib import Path

    pattern = re.compile(r"^\s*\w+(\s*,\s*\w+){3,}\s*=\s*\w+\[0\]\s*,\s*\w+\[1\]", re.M)
    engine = Path(__file__).resolve().parents[1] / "engine"
    offenders = [str(p) for p in engine.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
