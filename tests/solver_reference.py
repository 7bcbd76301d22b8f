"""Plain numpy versions of every solver kernel.

They state the mathematics without the performance tricks (no corner reuse, no chunking,
libm sin/cos), so the tests can check the Numba kernels against them and the benchmarks can
measure how far ahead the kernels are. A test fixture, not shipped in the engine package
(benchmarks/solver.py imports it from here).
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


# -- the field ---------------------------------------------------------------------------
def sample(grid: np.ndarray, r: int, inv_cell: float, px, py, pz) -> np.ndarray:
    """Trilinear periodic sample of an interleaved (x y z pad) grid; returns (n, 3)."""
    g = grid.reshape(r, r, r, 4)  # axes (z, y, x, component)
    gx, gy, gz = (np.asarray(p, np.float64) * inv_cell + r / 2 for p in (px, py, pz))
    x0, y0, z0 = (np.floor(a).astype(np.int64) for a in (gx, gy, gz))
    tx, ty, tz = gx - x0, gy - y0, gz - z0
    out = np.zeros((np.size(gx), 3))
    for dz in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                w = (tx if dx else 1 - tx) * (ty if dy else 1 - ty) * (tz if dz else 1 - tz)
                out += w[:, None] * g[(z0 + dz) % r, (y0 + dy) % r, (x0 + dx) % r, :3]
    return out


def node_positions(r: int, extent: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = (np.arange(r) - r / 2) * (extent / r)
    z, y, x = np.meshgrid(c, c, c, indexing="ij")
    return x.ravel(), y.ravel(), z.ravel()


def field_step(field, dt: float) -> np.ndarray:
    """One fluid step of `field` (forces, advection with decay and noise, projection);
    returns the new interleaved grid and leaves `field` untouched."""
    r, inv = field.resolution, field.inv_cell
    g = field.grid.reshape(-1, 4).astype(np.float64).copy()
    x, y, z = node_positions(r, field.extent)
    for f in range(field.force_count):
        c, v, strength, rad = (field.forces[f, 0:3], field.forces[f, 3:6], field.forces[f, 6],
                               field.forces[f, 7])
        d = np.stack([x - c[0], y - c[1], z - c[2]], axis=1)
        d -= np.round(d / field.extent) * field.extent  # periodic: nearest image
        q = (d**2).sum(axis=1) / rad**2
        fall = np.where(q < 1, (1 - q) ** 2, 0.0) * strength * dt
        kind = field.force_kind[f]
        if kind == 0:
            g[:, :3] -= (fall / rad)[:, None] * d
        elif kind == 1:
            g[:, :3] += (fall / rad)[:, None] * np.cross(v, d)
        else:
            g[:, :3] += fall[:, None] * v
    flat = np.zeros((r**3, 4), F32)
    flat[:] = g
    back = sample(flat.ravel(), r, inv, x - dt * g[:, 0], y - dt * g[:, 1], z - dt * g[:, 2])
    off = field.offset
    noise = sample(field.noise_grid, r, inv, x + off[0], y + off[1], z + off[2])
    u = back * np.exp(-field.decay * dt) + field.noise * dt * noise
    # projection: the exact inverse of the central-difference div∘grad, in Fourier space
    h = field.extent / r
    comps = [u[:, c].reshape(r, r, r) for c in range(3)]  # axes (z, y, x)
    axes = (2, 1, 0)

    def cdiff(a, axis):
        return (np.roll(a, -1, axis) - np.roll(a, 1, axis)) / (2 * h)

    div = sum(cdiff(comps[c], axes[c]) for c in range(3))
    k = 2 * np.pi * np.fft.fftfreq(r)
    lam = -(np.sin(k)[:, None, None] ** 2 + np.sin(k)[None, :, None] ** 2
            + np.sin(k)[None, None, :] ** 2) / h**2
    spec = np.fft.fftn(div)
    p_hat = np.divide(spec, lam, out=np.zeros_like(spec), where=np.abs(lam) > 1e-9)
    p = np.real(np.fft.ifftn(p_hat))
    out = np.zeros((r**3, 4), F32)
    for c in range(3):
        out[:, c] = (comps[c] - cdiff(p, axes[c])).ravel()
    return out.ravel()


# -- particles ---------------------------------------------------------------------------
def cell_polynomial(grid: np.ndarray, r: int, inv_cell: float, px, py, pz):
    """The trilinear polynomial of each point's cell: a function of fractions (tx, ty, tz)
    that may lie outside [0, 1] (the polynomial extended), and the point's own fractions."""
    g = grid.reshape(r, r, r, 4)
    gx, gy, gz = (np.asarray(p, np.float64) * inv_cell + r / 2 for p in (px, py, pz))
    x0, y0, z0 = (np.floor(a).astype(np.int64) for a in (gx, gy, gz))
    c = {(dx, dy, dz): g[(z0 + dz) % r, (y0 + dy) % r, (x0 + dx) % r, :3]
         for dz in (0, 1) for dy in (0, 1) for dx in (0, 1)}

    def poly(tx, ty, tz):
        out = 0.0
        for (dx, dy, dz), v in c.items():
            w = (tx if dx else 1 - tx) * (ty if dy else 1 - ty) * (tz if dz else 1 - tz)
            out = out + w[:, None] * v
        return out

    return poly, (gx - x0, gy - y0, gz - z0)


def particles_advance(x, y, z, age, life, dt, grid, r, inv_cell, speed, lift):
    """Midpoint (RK2) advection with the lift, then age and fade; returns new arrays.
    The midpoint velocity comes from the particle's own cell polynomial (see particles.py)."""
    h = 0.5 * dt * speed * inv_cell
    poly, (tx, ty, tz) = cell_polynomial(grid, r, inv_cell, x, y, z)
    u = poly(tx, ty, tz)
    mid = poly(tx + u[:, 0] * h, ty + (u[:, 1] + lift / speed) * h, tz + u[:, 2] * h)
    nx = x + mid[:, 0] * dt * speed
    ny = y + mid[:, 1] * dt * speed + lift * dt
    nz = z + mid[:, 2] * dt * speed
    a = age + dt
    fade = np.clip(np.minimum(np.minimum(a * 2.0, 1.0), np.minimum((life - a) * 0.7, 1.0)), 0, 1)
    return nx, ny, nz, a, fade


def hash_u32(seed: int, index: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """The kernels' splitmix64-based hash, in numpy uint64 arithmetic."""
    with np.errstate(over="ignore"):
        z = (np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
             + index.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
             + counter.astype(np.uint64) * np.uint64(0x94D049BB133111EB))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(32)).astype(np.uint32)


def uniform(seed: int, index: np.ndarray, counter: np.ndarray) -> np.ndarray:
    return (hash_u32(seed, index, counter) >> np.uint32(8)).astype(F32) * F32(1.0 / (1 << 24))


# -- strands -----------------------------------------------------------------------------
def braid_targets(s) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The braid target of every strand point of solver `s`, shape (M, N) each."""
    m, n = s.points, s.strands
    sv = (np.arange(m) / (m - 1))[:, None]
    b = s.bundle_of[None, :]
    t = s.togetherness
    w = t * (0.35 + 0.65 * np.sin(np.pi * sv))
    v = 2 * np.pi * s.braid_turns * sv + s.braid_phase + 2 * np.pi / 3 * s.lane[b]
    psi = s.lane_angle[b] + 2 * np.pi * s.rope_turns * sv
    bx = s.braid_radius * np.sin(v) + s.lane_r[b] * np.cos(psi)
    bz = 0.5 * s.braid_radius * np.sin(2 * v) + s.lane_r[b] * np.sin(psi)
    cx = s.ring_radius * np.cos(s.home[b]) * (1 - w) + bx * w
    cz = s.ring_radius * np.sin(s.home[b]) * (1 - w) + bz * w
    phi = s.angle[None, :] + 2 * np.pi * s.bundle_turns * sv + s.twist[b]
    r = s.radius[b] * s.radius_frac[None, :] * (1 - 0.4 * t)
    x = cx + r * np.cos(phi)
    z = cz + r * np.sin(phi)
    horizontal2 = np.diff(x, axis=0) ** 2 + np.diff(z, axis=0) ** 2
    rest2 = s.rest.astype(np.float64) ** 2
    climb = np.sqrt(np.maximum(rest2 - horizontal2, 0.25 * rest2))
    y = -0.5 * s.height + np.concatenate([np.zeros((1, n)), np.cumsum(climb, axis=0)])
    return x, y, z


def strand_constraints(x, y, z, rest, iterations, bending, follow_the_leader=False):
    """Gauss-Seidel length + bending sweeps on (M, N) arrays, in place, vectorised over
    strands exactly like the kernel (same order, so results agree to rounding)."""
    m = x.shape[0]
    for _ in range(1 if follow_the_leader else iterations):
        for j in range(1, m):
            wa = 0.0 if (j == 1 or follow_the_leader) else 0.5
            wb = 1.0 - wa
            d = np.stack([x[j] - x[j - 1], y[j] - y[j - 1], z[j] - z[j - 1]])
            corr = 1.0 - rest / np.sqrt((d**2).sum(axis=0) + 1e-12)
            for arr, dc in zip((x, y, z), d, strict=True):
                arr[j - 1] += wa * corr * dc
                arr[j] -= wb * corr * dc
            if bending > 0 and j >= 2:
                for arr in (x, y, z):
                    arr[j - 1] += bending * (0.5 * (arr[j - 2] + arr[j]) - arr[j - 1])


def strand_integrate(s, h, grid, r, inv_cell, field_strength):
    """One Verlet substep of solver `s` towards its current targets; returns (M, N) x, y, z."""
    m, n = s.points, s.strands
    shape = (m, n)
    x, y, z = (a.reshape(shape).astype(np.float64).copy() for a in (s.x, s.y, s.z))
    px, py, pz = (a.reshape(shape) for a in (s.px, s.py, s.pz))
    tx, ty, tz = (a.reshape(shape) for a in (s.tx, s.ty, s.tz))
    damping = s.damping ** (h * 60.0)
    sv = (np.arange(m) / (m - 1))[:, None]
    held = np.zeros((3, n))
    out = [np.empty(shape) for _ in range(3)]
    for a, t in zip(out, (tx, ty, tz), strict=True):
        a[0] = t[0]
    for j in range(1, m):
        if (j - 1) % 4 == 0:
            held = sample(grid, r, inv_cell, x[j], y[j], z[j]).T * field_strength
        for c, (a, p, t) in enumerate(zip((x, y, z), (px, py, pz), (tx, ty, tz), strict=True)):
            acc = s.stiffness * (t[j] - a[j]) + sv[j] * (held[c] + s.force[s.bundle_of, c])
            out[c][j] = a[j] + (a[j] - p[j]) * damping + acc * h * h
    return out


def particles_respawn(p, strands) -> None:
    """The respawn kernel in numpy (in place on ParticleSolver `p`)."""
    dead = np.flatnonzero(p.age >= p.life)
    emitters = np.flatnonzero(strands.active[strands.bundle_of] > 0)
    if len(dead) == 0 or len(emitters) == 0:
        return
    c = p.spawns[dead].astype(np.uint64)
    p.spawns[dead] += 1
    key = np.uint64(8) * c

    def u(k: int) -> np.ndarray:
        return uniform(p.seed, dead, key + np.uint64(k))

    # the strand follows from the slot: slots are shared out among the emitting strands
    strand = emitters[np.minimum(dead * len(emitters) // p.count, len(emitters) - 1)]
    j = np.minimum((u(1) * strands.points).astype(np.int64), strands.points - 1)
    k = j * strands.strands + strand
    p.x[dead] = strands.x[k] + p.jitter * (u(2) - 0.5)
    p.y[dead] = strands.y[k] + p.jitter * (u(3) - 0.5)
    p.z[dead] = strands.z[k] + p.jitter * (u(4) - 0.5)
    p.owner[dead] = strands.bundle_of[strand]
    p.tint[dead] = u(5)
    life = p.life_min + (p.life_max - p.life_min) * u(6)
    p.life[dead] = life
    p.age[dead] = np.where(c == 0, u(6) * life, 0.0)
    p.fade[dead] = 0.0
