"""Ambient particles: born on the strands, carried by the flow field, fading with age.

Float32 structure-of-arrays. Each step is two kernels over preallocated arrays, and a sort:

1. `advance`: midpoint (RK2) advection through the field for every particle, age and fade,
   eight particles at a time in explicit vector code (simd.py), the rest one by one
   (`advance_one`, the same operations). The midpoint velocity comes from the trilinear
   polynomial of the particle's own cell (its 24 corner values are already in registers),
   extended slightly past the cell's faces when the half step leaves it: RK2 for the
   fetches of Euler, branch-free. Where the half step crosses a face this differs from
   sampling the neighbour cell only by the kink of piecewise-trilinear interpolation there
   (about 1 % of that step, measured). Particles are kept sorted by that cell (3.), so
   most blocks of eight span one to three cells, whose corners are loaded once each and
   broadcast (simd.py): the same values, so the same bits as gathering them per particle.
   It leaves a mask per block of who died.
2. `respawn`: particles past their lifetime are reborn on a random point of an active strand.
   Randomness is a hash of (seed, particle, respawn count): no shared generator state in the
   parallel loop, so the result never depends on thread timing. Which strand follows from
   the particle's slot (slots are shared out among the emitting strands), so neighbours in
   memory are born near each other. Only the particles in `advance`'s masks are visited.
3. `BlockSorter` re-sorts one block of the arrays by field cell (see particle_order.py).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from engine import kernel_cache
from engine.solver.fastmath import FAST, HALF, ONE, ZERO, uniform
from engine.solver.field import FlowField
from engine.solver.fluid_kernels import cell_of, corners, trilinear
from engine.solver.particle_order import BlockSorter
from engine.solver.simd import LANES, advance8

F32 = np.float32

# kernel arguments grouped (Numba passes named tuples of arrays and scalars as they are)
Particles = namedtuple("Particles", "x y z age life fade tint owner spawns")
Birth = namedtuple("Birth", "seed jitter life_min life_max")
Source = namedtuple("Source", "emitters bundle_of sx sy sz n m")  # the strands particles leave


class ParticleSolver:
    """`count` particles; `owner` says which bundle (participant) each one came from."""

    def __init__(self, count: int, seed: int = 0, sort_blocks: int = 8) -> None:
        kernel_cache.prepare()  # once per process, before any kernel: OpenMP policy, cache
        self.count = count
        self.seed = seed
        self.x, self.y, self.z = (np.zeros(count, F32) for _ in range(3))
        self.age = np.zeros(count, F32)
        self.life = np.zeros(count, F32)  # zero: every particle is born on the first step
        self.fade = np.zeros(count, F32)  # 0..1 brightness from age, read by the renderer
        self.tint = np.zeros(count, F32)  # 0..1 per-particle colour variation
        self.owner = np.zeros(count, np.int32)
        self.spawns = np.zeros(count, np.uint32)
        self._dead = np.zeros(count // LANES + 1, np.uint8)  # per block of 8: someone died
        self.speed = 0.5
        self.lift = 0.08
        self.jitter = 0.06
        self.life_min, self.life_max = 2.0, 6.0
        self._emitters = np.zeros(0, np.int32)
        self._mask: np.ndarray | None = None
        # keeps neighbours in space neighbours in memory; sort_blocks=0 keeps slots fixed
        self.order = BlockSorter(count, sort_blocks) if sort_blocks > 0 else None

    def step(self, dt: float, field: FlowField, strands) -> None:
        """Advance by dt; dead particles respawn on a random point of an active strand."""
        self._update_emitters(strands)
        self.move(dt, field)
        self.renew(strands)
        if self.order is not None:
            self.order.sort_next(self, field.resolution, field.extent)

    def move(self, dt: float, field: FlowField) -> None:
        """The first part of a step (timed on its own by benchmarks/solver.py)."""
        advance(self.x, self.y, self.z, self.age, self.life, self.fade, F32(dt), field.grid,
                field.resolution, field.inv_cell, F32(self.speed * field.strength), F32(self.lift),
                self._dead)

    def renew(self, strands) -> None:
        """The second: rebirth of the particles `move` found dead."""
        respawn(self.x, self.y, self.z, self.age, self.life, self.fade, self.tint, self.owner,
                self.spawns, np.uint64(self.seed), F32(self.jitter), F32(self.life_min),
                F32(self.life_max), self._emitters, strands.bundle_of, strands.x, strands.y,
                strands.z, strands.strands, strands.points, self._dead)

    def _update_emitters(self, strands) -> None:
        # the emitter list changes only when a bundle comes or goes: compare the small
        # per-bundle mask each frame, rebuild the per-strand list only then
        mask = strands.active > 0
        if self._mask is None or not np.array_equal(mask, self._mask):
            self._mask = mask
            self._emitters = np.flatnonzero(mask[strands.bundle_of]).astype(np.int32)

    @property
    def alive_fraction(self) -> float:
        return float(np.mean(self.fade > 0)) if self.count else 0.0


@njit(parallel=True, cache=True, fastmath=FAST)
def advance(x, y, z, age, life, fade, dt, g, r, inv_cell, speed, lift, dead):
    """dead[k]: bit j set where particle 8k + j reached its lifetime (or is garbage)."""
    h = HALF * dt * speed * inv_cell  # half a step, in cell fractions
    step = dt * speed
    rise = lift / speed
    blocks = len(x) // LANES
    for k in prange(blocks):  # eight at a time in vector code, bitwise like advance_one
        dead[k] = advance8(x, y, z, age, life, fade, np.uint64(LANES) * np.uint64(k), g,
                           np.int32(r), inv_cell, dt, h, step, rise, lift)
    dead[blocks] = 0
    age_bits = age.view(np.uint32)
    life_bits = life.view(np.uint32)
    for i in range(blocks * LANES, len(x)):
        advance_one(x, y, z, age, life, fade, i, dt, g, r, inv_cell, h, step, rise, lift)
        if not is_alive(age, life, age_bits, life_bits, i):
            dead[blocks] |= np.uint8(1 << (i - blocks * LANES))


@njit(fastmath=FAST)
def advance_one(x, y, z, age, life, fade, i, dt, g, r, inv_cell, h, step, rise, lift):
    px, py, pz = x[i], y[i], z[i]
    i0, i1, i2, i3, i4, i5, i6, i7, tx, ty, tz = cell_of(r, inv_cell, px, py, pz)
    cx = corners(g, i0, i1, i2, i3, i4, i5, i6, i7, 0)
    cy = corners(g, i0, i1, i2, i3, i4, i5, i6, i7, 1)
    cz = corners(g, i0, i1, i2, i3, i4, i5, i6, i7, 2)
    ux = trilinear(cx, tx, ty, tz)
    uy = trilinear(cy, tx, ty, tz)
    uz = trilinear(cz, tx, ty, tz)
    # the midpoint, sampled from this cell's trilinear polynomial (extended past its faces
    # when the half step leaves the cell): no second fetch, no branch
    mx = tx + ux * h
    my = ty + (uy + rise) * h
    mz = tz + uz * h
    x[i] = px + trilinear(cx, mx, my, mz) * step
    y[i] = py + trilinear(cy, mx, my, mz) * step + lift * dt
    z[i] = pz + trilinear(cz, mx, my, mz) * step
    a = age[i] + dt
    age[i] = a
    fade[i] = max(min(min(a * F32(2.0), ONE), min((life[i] - a) * F32(0.7), ONE)), ZERO)


@njit
def is_alive(age, life, age_bits, life_bits, i) -> bool:
    """Younger than its lifetime, and neither is garbage: NaN is tested on the bits, as the
    kernels' fast-math flags let the compiler assume floats are never NaN."""
    finite = (age_bits[i] & np.uint32(0x7FFFFFFF)) <= np.uint32(0x7F800000)
    return finite and (life_bits[i] & np.uint32(0x7FFFFFFF)) <= np.uint32(0x7F800000) \
        and age[i] < life[i]


@njit(parallel=True, cache=True, fastmath=FAST)
def respawn(x, y, z, age, life, fade, tint, owner, spawns, seed, jitter, life_min, life_max,
            emitters, bundle_of, sx, sy, sz, n, m, dead):
    """Only the particles `advance` marked in `dead` are visited (a fraction of a percent a
    frame): no age or life is read for the others."""
    n_emit = len(emitters)
    count = len(x)
    state = Particles(x, y, z, age, life, fade, tint, owner, spawns)
    birth = Birth(seed, jitter, life_min, life_max)
    source = Source(emitters, bundle_of, sx, sy, sz, n, m)
    for k in prange(len(dead)):
        mask = np.uint32(dead[k])
        while mask != 0:
            lane = lowest_bit(mask)
            mask &= mask - np.uint32(1)
            i = np.int64(LANES) * k + lane
            if n_emit == 0:
                fade[i] = ZERO
                continue
            _reborn(state, birth, source, count, i)


@njit
def lowest_bit(mask):
    """The index of the lowest set bit of a non-zero mask."""
    lane = np.int64(0)
    while mask & np.uint32(1) == 0:
        mask >>= np.uint32(1)
        lane += 1
    return lane


@njit(fastmath=FAST)
def _reborn(p, birth, src, count, i):
    """Particle i of `p` (Particles) is born again on a random point of an emitting strand
    of `src` (Source), with `birth`'s settings (Birth)."""
    seed = birth.seed
    n_emit = len(src.emitters)
    c = p.spawns[i]
    p.spawns[i] = c + np.uint32(1)
    key = np.uint64(8) * np.uint64(c)
    strand = src.emitters[min(np.int64(i) * n_emit // count, n_emit - 1)]
    j = min(np.int64(uniform(seed, i, key + np.uint64(1)) * F32(src.m)), src.m - 1)
    k = j * src.n + strand
    p.x[i] = src.sx[k] + birth.jitter * (uniform(seed, i, key + np.uint64(2)) - HALF)
    p.y[i] = src.sy[k] + birth.jitter * (uniform(seed, i, key + np.uint64(3)) - HALF)
    p.z[i] = src.sz[k] + birth.jitter * (uniform(seed, i, key + np.uint64(4)) - HALF)
    p.owner[i] = src.bundle_of[strand]
    p.tint[i] = uniform(seed, i, key + np.uint64(5))
    u = uniform(seed, i, key + np.uint64(6))
    p.life[i] = birth.life_min + (birth.life_max - birth.life_min) * u
    # the first generation starts part-way through its life: no synchronised burst
    p.age[i] = u * p.life[i] if c == 0 else ZERO
    p.fade[i] = ZERO
