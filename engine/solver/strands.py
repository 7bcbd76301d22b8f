"""Strands: bundles of inextensible chains of points, braided around moving spines.

Layout: B bundles × S strands, each of M points, as separate float32 x/y/z arrays with the
strand index innermost (point j of strand i at j·N + i). Every kernel loops over points
along the strands on the outside and over strands on the inside, which vectorises.

Each substep: braid targets from the bundle parameters (climbing only as far as the
strands' lengths allow) → Verlet integration pulled towards
the targets and pushed by the flow field and per-bundle forces → Gauss-Seidel sweeps of the
length and bending constraints from the pinned root → bundle separation at every level (so
braided bundles pass over and under instead of through each other) → a follow-the-leader
sweep that makes every segment exactly its rest length.

The collective braid is a three-strand plait of lanes of bundles, so lanes pass alternately
over and under each other, as in braided hair.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from engine import kernel_cache
from engine.solver.fastmath import FAST, HALF, ONE, PI, TWO_PI, ZERO, fcos, fma, fsin
from engine.solver.field import FlowField
from engine.solver.fluid_kernels import sample_field

F32 = np.float32
U64 = np.uint64
CHUNK = 64  # strands per parallel work item
FIELD_EVERY = 4  # the field is sampled every 4th point along a strand and held in between


class StrandSolver:
    """Bundles of strands; scenes set the per-bundle arrays and `togetherness`, then `step`."""

    max_substep = 1.0 / 60.0

    def __init__(self, bundles: int, strands_per_bundle: int, points: int, *, height: float = 4.0,
                 ring_radius: float = 1.8, braid_radius: float = 0.8, seed: int = 0,
                 origin=(0.0, 0.0, 0.0), axis=(0.0, 1.0, 0.0)) -> None:
        kernel_cache.prepare()  # once per process, before any kernel: OpenMP policy, cache
        if bundles < 1 or strands_per_bundle < 1 or points < 2:
            raise ValueError("need at least one bundle, one strand and two points")
        self.bundles, self.strands_per_bundle, self.points = bundles, strands_per_bundle, points
        n = self.strands = bundles * strands_per_bundle
        rng = np.random.default_rng(seed)
        self.height, self.ring_radius, self.braid_radius = height, ring_radius, braid_radius
        # placement: the layer's centre and the direction its strands grow, so several layers
        # can stand side by side or lie along a line (braiding assumes the upright default)
        self.origin = np.asarray(origin, F32).copy()
        self.axis = np.asarray(axis, F32).copy()
        # per strand
        self.bundle_of = np.repeat(np.arange(bundles, dtype=np.int32), strands_per_bundle)
        k = np.tile(np.arange(strands_per_bundle), bundles)
        self.angle = (TWO_PI * k / strands_per_bundle + rng.uniform(-0.2, 0.2, n)).astype(F32)
        self.radius_frac = rng.uniform(0.45, 1.0, n).astype(F32)
        # per bundle: the knobs scenes turn
        self.radius = np.full(bundles, 0.2, F32)  # bundle thickness (world units)
        self.spin = np.full(bundles, 0.6, F32)  # how fast a bundle's twist turns (rad/s)
        self.twist = np.zeros(bundles, F32)  # accumulated twist angle
        self.active = np.ones(bundles, F32)
        self.force = np.zeros((bundles, 3), F32)  # extra acceleration per bundle (e.g. wind)
        # derived per bundle from the active set: its place on the ring and in the braid. The
        # kernel reads the current places; when the active set changes they glide to the new
        # ones (`glide` seconds) so roots slide round the ring instead of jumping
        # rows: home (ring angle), lane (0..3, fractional while gliding), lane_angle, lane_r
        self._places = np.zeros((4, bundles), F32)
        self._goal = np.zeros((4, bundles), F32)  # the places to glide to
        self._gliding = False
        self._placed = False  # the first step puts every bundle in place at once
        self.glide = 0.6  # seconds: time constant of the roots' glide to a new place
        self._active_count = -1
        self._active_mask = np.zeros(bundles, bool)
        # global braid parameters
        self.togetherness = 0.0
        self.bundle_turns = 0.8  # twists of strands around their bundle's spine, root to tip
        self.braid_turns = 0.5  # plait periods from root to tip in the collective braid
        self.braid_phase = 0.0
        self.braid_spin = 0.35  # rad/s: the plait slides along the strands
        self.rope_turns = 1.0  # twists of a lane's bundles round each other, root to tip
        self.separation = 1.8  # minimum distance between bundle centres, in bundle radii
        self.stiffness = 30.0  # pull towards the braid target (1/s²)
        self.bending = 0.1  # 0..1 straightening per sweep
        self.damping = 0.92  # velocity kept per 1/60 s
        self.field_force = 0.6
        self.iterations = 4
        # state
        size = n * points
        self.x, self.y, self.z = (np.zeros(size, F32) for _ in range(3))
        self.tx, self.ty, self.tz = (np.zeros(size, F32) for _ in range(3))
        self._centroid = np.zeros((points, bundles, 3), F32)  # separation scratch
        self._shift = np.zeros((points, bundles, 3), F32)
        self._field_scratch = np.zeros(((n + CHUNK - 1) // CHUNK, 3, CHUNK), F32)
        self.rest = self._rest_lengths()
        self._update_layout()
        self._glide(1.0, snap=np.ones(bundles, bool))
        self._targets()
        for a, b in ((self.x, self.tx), (self.y, self.ty), (self.z, self.tz)):
            a[:] = b
        self.px, self.py, self.pz = self.x.copy(), self.y.copy(), self.z.copy()

    # -- layout ------------------------------------------------------------------------
    # each bundle's place on the ring and in the braid, as the kernels read it (rows of one
    # array, so a glide is a handful of vector operations)
    home = property(lambda self: self._places[0])
    lane = property(lambda self: self._places[1])
    lane_angle = property(lambda self: self._places[2])
    lane_r = property(lambda self: self._places[3])

    def _update_layout(self) -> np.ndarray | None:
        """Spread the active bundles evenly round the ring and share them among the three
        lanes of the braid in contiguous blocks (so no bundle travels far to its lane). Sets
        the places to glide to; returns the bundles that just became active (placed at once,
        as nobody saw them move), or None when the active set is unchanged."""
        active = self.active > 0
        count = int(active.sum())
        if count == self._active_count and np.array_equal(active, self._active_mask):
            return None
        arrived = active & ~self._active_mask
        self._active_mask = active.copy()
        self._active_count = count
        rank = np.cumsum(active) - 1
        lanes = min(3, max(count, 1))
        lane = np.where(active, rank * lanes // max(count, 1), 0)
        per_lane = np.bincount(lane[active], minlength=3) if count else np.zeros(3, int)
        first = np.concatenate([[0], np.cumsum(per_lane)[:-1]])
        slot = rank - first[lane]
        size = np.maximum(per_lane[lane], 1)
        goal = self._goal
        goal[0] = np.where(active, TWO_PI * rank / max(count, 1), goal[0])
        goal[1] = np.where(active, lane, goal[1])
        goal[2] = np.where(active, TWO_PI * slot / size, goal[2])
        # bundles of a lane sit on a ring that keeps neighbours about 2.3 radii apart
        spacing = 1.15 * 0.6 * self.radius / np.sin(np.pi / np.maximum(size, 2))
        goal[3] = np.where(active, np.where(size > 1, spacing, 0.0), goal[3])
        self._gliding = True
        return arrived

    def _glide(self, h: float, snap: np.ndarray | None = None) -> None:
        """Move each bundle's place towards its goal (exponentially, time constant `glide`;
        angles and lanes the short way round); `snap` bundles, or all with glide 0, jump."""
        if not self._gliding:
            return
        step = F32(1.0 - math.exp(-h / self.glide)) if self.glide > 0 else F32(1.0)
        places, d = self._places, self._goal - self._places
        d[:3] += _HALF_PERIOD  # home, lane, lane_angle wrap round: the short way
        d[:3] %= _PERIOD
        d[:3] -= _HALF_PERIOD
        moved = d * step
        if snap is not None:
            moved[:, snap] = d[:, snap]
        places += moved
        places[:3] %= _PERIOD
        if np.abs(d - moved).max() < 1e-5:  # close enough: stand exactly on the goals, stop
            places[:] = self._goal
            self._gliding = False

    def _targets(self) -> None:
        braid_targets(self.tx, self.ty, self.tz, self.strands, self.points, self.bundle_of,
                      self.angle, self.radius_frac, self.home, self.lane, self.lane_angle,
                      self.lane_r, self.radius, self.twist, self.rest, F32(self.togetherness),
                      F32(self.height), F32(self.ring_radius), F32(self.braid_radius),
                      F32(self.braid_turns), F32(self.braid_phase), F32(self.rope_turns),
                      F32(self.bundle_turns))
        self._place(self.tx, self.ty, self.tz)

    def placement(self) -> np.ndarray | None:
        """The 3×3 rotation taking +y to `axis`, or None when the layer stands upright."""
        a = self.axis.astype(np.float64)
        a = a / max(float(np.linalg.norm(a)), 1e-9)
        if a[1] > 1.0 - 1e-7:
            return None
        if a[1] < -1.0 + 1e-7:
            return np.diag([1.0, -1.0, -1.0])  # upside down: half a turn about x
        v = np.array([a[2], 0.0, -a[0]])  # y × a
        vx = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
        return np.eye(3) + vx + vx @ vx / (1.0 + a[1])

    def _place(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> None:
        """Move points from the layer's own upright frame to `origin`, growing along `axis`
        (a rigid motion after the target kernel: lengths and bends are unchanged)."""
        rot = self.placement()
        if rot is not None:
            p = rot.astype(F32) @ np.stack((x, y, z))
            x[:], y[:], z[:] = p[0], p[1], p[2]
        if self.origin.any():
            x += self.origin[0]
            y += self.origin[1]
            z += self.origin[2]

    def _rest_lengths(self) -> np.ndarray:
        """Segment length of each strand: a straight climb of height/(M-1) per segment plus
        the chord of its own twist around the bundle spine, as it hangs when unbraided."""
        dy = self.height / (self.points - 1)
        r = self.radius[self.bundle_of] * self.radius_frac
        chord = 2 * r * np.sin(np.pi * self.bundle_turns / (self.points - 1))
        return np.sqrt(dy * dy + chord * chord).astype(F32)

    # -- stepping ------------------------------------------------------------------------
    def step(self, dt: float, field: FlowField | None = None) -> None:
        substeps = max(1, math.ceil(dt / self.max_substep - 1e-9))
        h = dt / substeps
        arrived = self._update_layout()
        if not self._placed or arrived is not None and arrived.any():
            self._place_arrivals(arrived if self._placed else None)
        upright = self.placement() is None
        if field is not None:
            grid, r, inv = field.grid, field.resolution, field.inv_cell
            strength = F32(self.field_force * field.strength)
        else:
            grid, r, inv, strength = _NO_FIELD, 4, F32(1), F32(0)
        for _ in range(substeps):
            self.twist += self.spin * F32(h)
            self.braid_phase += self.braid_spin * h
            self._glide(h)
            self._targets()
            integrate(self.x, self.y, self.z, self.px, self.py, self.pz, self.tx, self.ty, self.tz,
                      self.strands, self.points, self.bundle_of, self.force, F32(h),
                      F32(self.damping ** (h * 60.0)), F32(self.stiffness), grid, r, inv, strength,
                      self._field_scratch)
            constrain(self.x, self.y, self.z, self.strands, self.points, self.rest,
                      self.iterations, F32(self.bending), False)
            if self.togetherness > 0.0 and self.separation > 0.0 and upright:  # works in x/z
                separate(self.x, self.z, self.strands, self.points, self.bundle_of, self.active,
                         self.radius, F32(self.separation), self._centroid, self._shift)
            constrain(self.x, self.y, self.z, self.strands, self.points, self.rest, 0, F32(0), True)

    def _place_arrivals(self, arrived: np.ndarray | None) -> None:
        """Bundles that just became active take their place at once, standing on their
        targets: they were not drawn, so nobody sees them jump. At the first step every
        bundle whose place changed since construction does so (the scene's first active set),
        unless its strands no longer stand where they were built (state carried over by a live
        reload keeps its shapes; only the places snap)."""
        built = self._placed or all(np.array_equal(a, t) for a, t in
                                    ((self.x, self.tx), (self.y, self.ty), (self.z, self.tz)))
        if arrived is None:  # the first step: those whose place changed since construction
            snap = (self._places != self._goal).any(axis=0)
            self._glide(0.0, snap=np.ones(self.bundles, bool))
        else:
            snap = arrived
            self._glide(0.0, snap=snap)
        self._placed = True
        if not built or not snap.any():
            return
        self._targets()
        strands = np.flatnonzero(snap[self.bundle_of])
        k = (np.arange(self.points)[:, None] * self.strands + strands[None, :]).ravel()
        for a, p, t in ((self.x, self.px, self.tx), (self.y, self.py, self.ty),
                        (self.z, self.pz, self.tz)):
            a[k] = t[k]
            p[k] = t[k]

    def segment_lengths(self) -> np.ndarray:
        """(M-1, N) lengths of every segment, for tests and diagnostics."""
        pts = np.stack([a.reshape(self.points, self.strands) for a in (self.x, self.y, self.z)])
        return np.linalg.norm(np.diff(pts, axis=1), axis=0)

    def bundle_centres(self) -> np.ndarray:
        """(M, B, 3) mean position of each bundle at each level."""
        pts = np.stack([a.reshape(self.points, self.bundles, self.strands_per_bundle)
                        for a in (self.x, self.y, self.z)], axis=-1)
        return pts.mean(axis=2)


_NO_FIELD = np.zeros(4 * 64, F32)
_PERIOD = np.array([[TWO_PI], [3.0], [TWO_PI]], F32)  # of home, lane and lane_angle
_HALF_PERIOD = F32(0.5) * _PERIOD


@njit(parallel=True, cache=True, fastmath=FAST)
def braid_targets(tx, ty, tz, n, m, bundle_of, angle, radius_frac, home, lane, lane_angle, lane_r,
                  radius, twist, rest, together, height, ring, braid_a, braid_turns, braid_phase,
                  rope_turns, bundle_turns):
    """Target of every strand point.

    Apart, bundle b stands on the ring at angle home[b]. Braided, the bundles gather into
    three lanes that follow a three-strand plait, x = A·sin(u + 2πk/3), z = A/2·sin 2(u + 2πk/3),
    which passes each lane alternately over and under the others; the bundles of a lane twist
    round each other like a rope. Togetherness blends the two, most in the middle. Each level
    climbs only as high as the strand's rest length allows, so targets are always reachable by
    an inextensible strand: a tighter braid is a shorter one.
    """
    inv = ONE / F32(m - 1)
    floor = F32(0.25)
    third = TWO_PI / F32(3.0)
    chunks = (n + CHUNK - 1) // CHUNK
    for c in prange(chunks):
        i0 = c * CHUNK
        i1 = min(n, i0 + CHUNK)
        for j in range(m):
            s = F32(j) * inv
            w = together * (F32(0.35) + F32(0.65) * fsin(PI * s))  # flares like a loom at the ends
            u = TWO_PI * braid_turns * s + braid_phase
            rope = TWO_PI * rope_turns * s
            thin = ONE - F32(0.4) * together
            row = U64(j * n)
            for i in range(U64(i0), U64(i1)):  # unsigned indices: see constrain
                b = bundle_of[i]
                v = u + third * F32(lane[b])
                psi = lane_angle[b] + rope
                bx = braid_a * fsin(v) + lane_r[b] * fcos(psi)
                bz = HALF * braid_a * fsin(F32(2.0) * v) + lane_r[b] * fsin(psi)
                cx = ring * fcos(home[b]) * (ONE - w) + bx * w
                cz = ring * fsin(home[b]) * (ONE - w) + bz * w
                phi = angle[i] + TWO_PI * bundle_turns * s + twist[b]
                r = radius[b] * radius_frac[i] * thin
                k = row + i
                tx[k] = cx + r * fcos(phi)
                tz[k] = cz + r * fsin(phi)
                if j == 0:
                    ty[k] = -HALF * height
                else:
                    below = k - U64(n)
                    dx = tx[k] - tx[below]
                    dz = tz[k] - tz[below]
                    r2 = rest[i] * rest[i]
                    ty[k] = ty[below] + np.sqrt(max(r2 - dx * dx - dz * dz, floor * r2))


@njit(parallel=True, cache=True, fastmath=FAST)
def integrate(x, y, z, px, py, pz, tx, ty, tz, n, m, bundle_of, force, h, damping, stiffness,
              g, r, inv_cell, field_strength, scratch):
    """Verlet step towards the targets; roots follow their targets exactly."""
    h2 = h * h
    inv_m = ONE / F32(m - 1)
    chunks = (n + CHUNK - 1) // CHUNK
    for c in prange(chunks):
        i0 = c * CHUNK
        i1 = min(n, i0 + CHUNK)
        fx = scratch[c, 0]
        fy = scratch[c, 1]
        fz = scratch[c, 2]
        for i in range(i0, i1):
            px[i] = x[i]
            py[i] = y[i]
            pz[i] = z[i]
            x[i] = tx[i]
            y[i] = ty[i]
            z[i] = tz[i]
        for j in range(1, m):
            s = F32(j) * inv_m
            base = j * n
            if (j - 1) % FIELD_EVERY == 0:
                for i in range(i0, i1):
                    k = base + i
                    ux, uy, uz = sample_field(g, r, inv_cell, x[k], y[k], z[k])
                    fx[i - i0] = ux * field_strength
                    fy[i - i0] = uy * field_strength
                    fz[i - i0] = uz * field_strength
            ub, u0 = U64(base), U64(i0)
            for i in range(u0, U64(i1)):  # unsigned: vectorises (see constrain)
                k = ub + i
                b = bundle_of[i]
                ax = stiffness * (tx[k] - x[k]) + s * (fx[i - u0] + force[b, 0])
                ay = stiffness * (ty[k] - y[k]) + s * (fy[i - u0] + force[b, 1])
                az = stiffness * (tz[k] - z[k]) + s * (fz[i - u0] + force[b, 2])
                nx = x[k] + (x[k] - px[k]) * damping + ax * h2
                ny = y[k] + (y[k] - py[k]) * damping + ay * h2
                nz = z[k] + (z[k] - pz[k]) * damping + az * h2
                px[k] = x[k]
                py[k] = y[k]
                pz[k] = z[k]
                x[k] = nx
                y[k] = ny
                z[k] = nz


@njit(parallel=True, cache=True, fastmath=FAST)
def constrain(x, y, z, n, m, rest, iterations, bending, follow_the_leader):
    """Gauss-Seidel sweeps root to tip: segment lengths, then bending (straightening).

    With follow_the_leader, one sweep that moves only the point further from the root, so
    every segment ends exactly at its rest length.
    """
    sweeps = 1 if follow_the_leader else iterations
    chunks = (n + CHUNK - 1) // CHUNK
    for c in prange(chunks):
        i0 = c * CHUNK
        i1 = min(n, i0 + CHUNK)
        for _ in range(sweeps):
            for j in range(1, m):
                wa = ZERO if (j == 1 or follow_the_leader) else HALF  # the root never moves
                wb = ONE - wa
                # unsigned indices: no wrap-around check per access, so the loop over
                # strands vectorises (signed ones kept it scalar, 3x slower)
                ra = U64((j - 1) * n)
                rb = U64(j * n)
                for i in range(U64(i0), U64(i1)):
                    a = ra + i
                    b = rb + i
                    dx = x[b] - x[a]
                    dy = y[b] - y[a]
                    dz = z[b] - z[a]
                    inv_d = ONE / np.sqrt(fma(dx, dx, fma(dy, dy, fma(dz, dz, F32(1e-12)))))
                    corr = fma(-rest[i], inv_d, ONE)  # fraction of the segment to remove
                    ka = wa * corr
                    kb = -wb * corr
                    x[a] = fma(ka, dx, x[a])
                    y[a] = fma(ka, dy, y[a])
                    z[a] = fma(ka, dz, z[a])
                    x[b] = fma(kb, dx, x[b])
                    y[b] = fma(kb, dy, y[b])
                    z[b] = fma(kb, dz, z[b])
                if bending > ZERO and j >= 2:  # straighten point j-1 while its rows are hot
                    r0 = U64((j - 2) * n)
                    for i in range(U64(i0), U64(i1)):
                        a = r0 + i
                        b = ra + i
                        c2 = rb + i
                        x[b] += bending * (HALF * (x[a] + x[c2]) - x[b])
                        y[b] += bending * (HALF * (y[a] + y[c2]) - y[b])
                        z[b] += bending * (HALF * (z[a] + z[c2]) - z[b])


@njit(parallel=True, cache=True, fastmath=FAST)
def separate(x, z, n, m, bundle_of, active, radius, separation, centroid, shift):
    """Push apart bundle cross-sections closer than `separation` radii, level by level."""
    nb = centroid.shape[1]
    for j in prange(1, m):
        base = j * n
        for b in range(nb):
            centroid[j, b, 0] = ZERO
            centroid[j, b, 2] = ZERO
            centroid[j, b, 1] = ZERO  # strand count
            shift[j, b, 0] = ZERO
            shift[j, b, 2] = ZERO
        for i in range(n):
            b = bundle_of[i]
            centroid[j, b, 0] += x[base + i]
            centroid[j, b, 2] += z[base + i]
            centroid[j, b, 1] += ONE
        for b in range(nb):
            if centroid[j, b, 1] > ZERO:
                centroid[j, b, 0] /= centroid[j, b, 1]
                centroid[j, b, 2] /= centroid[j, b, 1]
        for b1 in range(nb):
            if active[b1] <= ZERO:
                continue
            for b2 in range(b1 + 1, nb):
                if active[b2] <= ZERO:
                    continue
                dx = centroid[j, b2, 0] - centroid[j, b1, 0]
                dz = centroid[j, b2, 2] - centroid[j, b1, 2]
                want = separation * HALF * (radius[b1] + radius[b2])
                d2 = dx * dx + dz * dz
                if d2 >= want * want:
                    continue
                d = np.sqrt(d2) + F32(1e-6)
                push = HALF * (want - d) / d
                shift[j, b1, 0] -= push * dx
                shift[j, b1, 2] -= push * dz
                shift[j, b2, 0] += push * dx
                shift[j, b2, 2] += push * dz
        for i in range(n):
            b = bundle_of[i]
            x[base + i] += shift[j, b, 0]
            z[base + i] += shift[j, b, 2]
