"""Strands: bundles of inextensible chains of points, braided around moving spines.

Layout: B bundles × S strands, each of M points, stored as separate float32 x/y/z arrays with
the strand index innermost (point j of strand i at j·N + i). Every kernel therefore loops over
points along a strand on the outside and over strands on the inside, which vectorises.

Each frame: braid targets from the bundle parameters → Verlet integration pulled towards the
targets and pushed by the flow field → Gauss-Seidel length constraints from the pinned root,
finished by a follow-the-leader sweep so segment lengths hold exactly.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from engine.solver.fastmath import HALF, ONE, PI, TWO_PI, ZERO, fcos, fsin
from engine.solver.field import FlowField, sample_field

F32 = np.float32
CHUNK = 64  # strands per parallel work item


class StrandSolver:
    """Bundles of strands; scenes set the per-bundle arrays and `togetherness`, then `step`."""

    max_substep = 1.0 / 60.0

    def __init__(self, bundles: int, strands_per_bundle: int, points: int, *, height: float = 4.0,
                 ring_radius: float = 1.8, braid_radius: float = 0.45, seed: int = 0) -> None:
        if bundles < 1 or strands_per_bundle < 1 or points < 2:
            raise ValueError("need at least one bundle, one strand and two points")
        self.bundles, self.strands_per_bundle, self.points = bundles, strands_per_bundle, points
        n = self.strands = bundles * strands_per_bundle
        rng = np.random.default_rng(seed)
        self.height, self.ring_radius, self.braid_radius = height, ring_radius, braid_radius
        # per strand
        self.bundle_of = np.repeat(np.arange(bundles, dtype=np.int32), strands_per_bundle)
        k = np.tile(np.arange(strands_per_bundle), bundles)
        self.angle = (TWO_PI * k / strands_per_bundle + rng.uniform(-0.2, 0.2, n)).astype(F32)
        self.radius_frac = rng.uniform(0.45, 1.0, n).astype(F32)
        # per bundle: the knobs scenes turn
        self.home_angle = (2 * np.pi * np.arange(bundles) / bundles).astype(F32)
        self.radius = np.full(bundles, 0.22, F32)  # bundle thickness (world units)
        self.spin = np.full(bundles, 0.6, F32)  # how fast a bundle's twist turns (rad/s)
        self.twist = np.zeros(bundles, F32)  # accumulated twist angle
        self.active = np.ones(bundles, F32)
        # global braid parameters
        self.togetherness = 0.0
        self.bundle_turns = 0.8  # twists of strands around their bundle's spine, root to tip
        self.braid_turns = 1.25  # twists of bundles around each other in the collective braid
        self.braid_phase = 0.0
        self.braid_spin = 0.35  # rad/s
        self.stiffness = 30.0  # pull towards the braid target (1/s²)
        self.damping = 0.92  # velocity kept per 1/60 s
        self.field_force = 0.6
        self.iterations = 4
        # state
        size = n * points
        self.x, self.y, self.z = (np.zeros(size, F32) for _ in range(3))
        self.tx, self.ty, self.tz = (np.zeros(size, F32) for _ in range(3))
        self._targets()
        for a, b in ((self.x, self.tx), (self.y, self.ty), (self.z, self.tz)):
            a[:] = b
        self.px, self.py, self.pz = self.x.copy(), self.y.copy(), self.z.copy()
        self.rest = self._rest_lengths()

    def _targets(self) -> None:
        _braid_targets(self.tx, self.ty, self.tz, self.strands, self.points, self.bundle_of,
                       self.angle, self.radius_frac, self.home_angle, self.radius, self.twist,
                       F32(self.togetherness), F32(self.height), F32(self.ring_radius),
                       F32(self.braid_radius), F32(self.bundle_turns), F32(self.braid_turns),
                       F32(self.braid_phase))

    def _rest_lengths(self) -> np.ndarray:
        """Segment length of each strand in its unbraided shape: a strand hangs straight and
        unkinked while apart, and a braid (a longer, helical path) draws it slightly shorter,
        as braiding does to real threads."""
        saved = self.togetherness
        self.togetherness = 0.0
        self._targets()
        pts = np.stack([a.reshape(self.points, self.strands) for a in (self.tx, self.ty, self.tz)])
        self.togetherness = saved
        self._targets()
        return np.linalg.norm(np.diff(pts, axis=1), axis=0).mean(axis=0).astype(F32)

    def step(self, dt: float, field: FlowField | None = None) -> None:
        substeps = max(1, math.ceil(dt / self.max_substep - 1e-9))
        h = dt / substeps
        for _ in range(substeps):
            self.twist += self.spin * F32(h)
            self.braid_phase += self.braid_spin * h
            self._targets()
            damping = F32(self.damping ** (h * 60.0))
            if field is not None:
                grid, r, inv, off, strength = (field.vx, field.vy, field.vz), field.resolution, \
                    field.inv_cell, field.offset, F32(self.field_force * field.strength)
            else:
                grid, r, inv, off, strength = _NO_FIELD, 4, F32(1), np.zeros(3, F32), F32(0)
            _integrate(self.x, self.y, self.z, self.px, self.py, self.pz, self.tx, self.ty,
                       self.tz, self.strands, self.points, self.rest, F32(h), damping,
                       F32(self.stiffness), self.iterations, grid[0], grid[1], grid[2], r, inv,
                       off, strength)

    def segment_lengths(self) -> np.ndarray:
        """(M-1, N) lengths of every segment, for tests and diagnostics."""
        pts = np.stack([a.reshape(self.points, self.strands) for a in (self.x, self.y, self.z)])
        return np.linalg.norm(np.diff(pts, axis=1), axis=0)


_NO_FIELD = tuple(np.zeros(64, F32) for _ in range(3))


@njit(parallel=True, cache=True, fastmath=True)
def _braid_targets(tx, ty, tz, n, m, bundle_of, angle, radius_frac, home, radius, twist,
                   together, height, ring, braid_r, bundle_turns, braid_turns, braid_phase):
    inv = ONE / F32(m - 1)
    for j in prange(m):
        s = F32(j) * inv
        y = (s - HALF) * height
        # bundles pinch together most in the middle, so the braid flares like a loom at the ends
        pinch = together * (F32(0.35) + F32(0.65) * fsin(PI * s))
        rc = ring + (braid_r - ring) * pinch
        sweep = together * (TWO_PI * braid_turns * s + braid_phase)
        for i in range(n):
            b = bundle_of[i]
            theta = home[b] + sweep
            phi = angle[i] + TWO_PI * bundle_turns * s + twist[b]
            r = radius[b] * radius_frac[i]
            k = j * n + i
            tx[k] = rc * fcos(theta) + r * fcos(phi)
            ty[k] = y
            tz[k] = rc * fsin(theta) + r * fsin(phi)


@njit(parallel=True, cache=True, fastmath=True)
def _integrate(x, y, z, px, py, pz, tx, ty, tz, n, m, rest, h, damping, stiffness, iterations,
               vx, vy, vz, r, inv_cell, off, field_strength):
    h2 = h * h
    ox, oy, oz = off[0], off[1], off[2]
    inv_m = ONE / F32(m - 1)
    chunks = (n + 63) // 64
    for c in prange(chunks):
        i0 = c * 64
        i1 = min(n, i0 + 64)
        for i in range(i0, i1):  # roots follow their targets exactly
            px[i] = x[i]
            py[i] = y[i]
            pz[i] = z[i]
            x[i] = tx[i]
            y[i] = ty[i]
            z[i] = tz[i]
        for j in range(1, m):
            s = F32(j) * inv_m
            base = j * n
            for i in range(i0, i1):
                k = base + i
                fx, fy, fz = sample_field(vx, vy, vz, r, inv_cell, ox, oy, oz, x[k], y[k], z[k])
                ax = stiffness * (tx[k] - x[k]) + field_strength * s * fx
                ay = stiffness * (ty[k] - y[k]) + field_strength * s * fy
                az = stiffness * (tz[k] - z[k]) + field_strength * s * fz
                nx = x[k] + (x[k] - px[k]) * damping + ax * h2
                ny = y[k] + (y[k] - py[k]) * damping + ay * h2
                nz = z[k] + (z[k] - pz[k]) * damping + az * h2
                px[k] = x[k]
                py[k] = y[k]
                pz[k] = z[k]
                x[k] = nx
                y[k] = ny
                z[k] = nz
        # balanced Gauss-Seidel sweeps, then one follow-the-leader sweep (only the point further
        # from the root moves) that makes every segment exactly its rest length
        for it in range(iterations + 1):
            for j in range(1, m):
                wa = ZERO if (j == 1 or it == iterations) else HALF
                wb = ONE - wa
                for i in range(i0, i1):
                    a = (j - 1) * n + i
                    b = j * n + i
                    dx = x[b] - x[a]
                    dy = y[b] - y[a]
                    dz = z[b] - z[a]
                    d2 = dx * dx + dy * dy + dz * dz + F32(1e-12)
                    inv_d = ONE / np.sqrt(d2)
                    corr = ONE - rest[i] * inv_d  # fraction of the segment to remove
                    x[a] += wa * corr * dx
                    y[a] += wa * corr * dy
                    z[a] += wa * corr * dz
                    x[b] -= wb * corr * dx
                    y[b] -= wb * corr * dy
                    z[b] -= wb * corr * dz
