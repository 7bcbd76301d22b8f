"""Ambient particles: born on the strands, carried by the flow field, fading with age.

Float32 structure-of-arrays; advection is midpoint (RK2) through the field plus a gentle lift.
Respawn positions come from a counter-based hash of (seed, particle, respawn count), so the
parallel loop needs no shared generator and the result never depends on thread timing.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from engine.solver.fastmath import HALF, ONE, ZERO, uniform
from engine.solver.field import FlowField, sample_field

F32 = np.float32


class ParticleSolver:
    """`count` particles; `owner` says which bundle (participant) each one came from."""

    def __init__(self, count: int, seed: int = 0) -> None:
        self.count = count
        self.seed = seed
        self.x, self.y, self.z = (np.zeros(count, F32) for _ in range(3))
        self.age = np.zeros(count, F32)
        # staggered lifetimes so the first frames are not one synchronised burst
        self.life = np.zeros(count, F32)
        self.fade = np.zeros(count, F32)  # 0..1 brightness from age, read by the renderer
        self.owner = np.zeros(count, np.int32)
        self.spawns = np.zeros(count, np.uint32)
        self.speed = 0.5
        self.lift = 0.08
        self.jitter = 0.06
        self.life_min, self.life_max = 2.0, 6.0
        self._emitters = np.zeros(0, np.int32)

    def step(self, dt: float, field: FlowField, strands) -> None:
        """Advance by dt; dead particles respawn on a random point of an active strand."""
        active = np.flatnonzero(strands.active[strands.bundle_of] > 0).astype(np.int32)
        if len(active) != len(self._emitters) or not np.array_equal(active, self._emitters):
            self._emitters = active
        _advance(self.x, self.y, self.z, self.age, self.life, self.fade, self.owner, self.spawns,
                 F32(dt), np.uint64(self.seed), field.vx, field.vy, field.vz, field.resolution,
                 field.inv_cell, field.offset, F32(self.speed * field.strength), F32(self.lift),
                 F32(self.jitter), F32(self.life_min), F32(self.life_max), self._emitters,
                 strands.bundle_of, strands.x, strands.y, strands.z, strands.strands,
                 strands.points)

    @property
    def alive_fraction(self) -> float:
        return float(np.mean(self.fade > 0)) if self.count else 0.0


@njit(parallel=True, cache=True, fastmath=True)
def _advance(x, y, z, age, life, fade, owner, spawns, dt, seed, vx, vy, vz, r, inv_cell, off,
             speed, lift, jitter, life_min, life_max, emitters, bundle_of, sx, sy, sz, n, m):
    ox, oy, oz = off[0], off[1], off[2]
    n_emit = len(emitters)
    half_dt = HALF * dt
    for i in prange(len(x)):
        a = age[i] + dt
        if a >= life[i]:
            if n_emit == 0:
                fade[i] = ZERO
                age[i] = a
                continue
            c = spawns[i]
            spawns[i] = c + np.uint32(1)
            strand = emitters[np.int64(uniform(seed, i, 4 * c) * F32(n_emit))]
            j = np.int64(uniform(seed, i, 4 * c + 1) * F32(m))
            k = j * n + strand
            x[i] = sx[k] + jitter * (uniform(seed, i, 4 * c + 2) - HALF)
            y[i] = sy[k] + jitter * (uniform(seed, i, 4 * c + 3) - HALF)
            z[i] = sz[k]
            owner[i] = bundle_of[strand]
            u = uniform(seed, i, 4 * c + 5)
            life[i] = life_min + (life_max - life_min) * u
            # the very first generation starts part-way through its life
            a = u * life[i] if c == 0 else ZERO
        age[i] = a
        px, py, pz = x[i], y[i], z[i]
        ux, uy, uz = sample_field(vx, vy, vz, r, inv_cell, ox, oy, oz, px, py, pz)
        mx = px + ux * speed * half_dt
        my = py + (uy * speed + lift) * half_dt
        mz = pz + uz * speed * half_dt
        ux, uy, uz = sample_field(vx, vy, vz, r, inv_cell, ox, oy, oz, mx, my, mz)
        x[i] = px + ux * speed * dt
        y[i] = py + (uy * speed + lift) * dt
        z[i] = pz + uz * speed * dt
        fade_in = min(a * F32(2.0), ONE)
        fade_out = min((life[i] - a) * F32(0.7), ONE)
        fade[i] = max(min(fade_in, fade_out), ZERO)


