"""Numba kernels of the flow field: trilinear sampling, forces, advection, div and grad.

The velocity grid is one flat float32 array with x, y, z (and a pad) interleaved per node,
node index ((z·R) + y)·R + x: a trilinear sample touches 8 nodes, the three components of
each in one 16-byte slot. The grid is periodic (R a power of two, wrapping is a bit
mask). Node (x, y, z) sits at world ((x, y, z) − R/2) · cell.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from engine.solver.fastmath import FAST
from engine.solver.simd import LANES, advect8

F32 = np.float32
ONE = F32(1.0)
HALF = F32(0.5)


U32 = np.uint32


@njit(fastmath=FAST)
def cell_of(r, inv_cell, px, py, pz):
    """The grid cell of a world point: its 8 corner offsets into the interleaved grid (order
    x fastest, then y, then z) and the point's fractions (tx, ty, tz) inside the cell.

    The offsets are uint32 on purpose: with 64-bit signed indices Numba emits a wrap-around
    check per load and LLVM keeps the whole loop scalar and slower (measured 1.5x)."""
    half = HALF * F32(r)
    gx = px * inv_cell + half
    gy = py * inv_cell + half
    gz = pz * inv_cell + half
    fx0 = np.floor(gx)
    fy0 = np.floor(gy)
    fz0 = np.floor(gz)
    ix = U32(np.int32(fx0))
    iy = U32(np.int32(fy0))
    iz = U32(np.int32(fz0))
    m = U32(r - 1)
    r4 = U32(4 * r)
    rr = U32(4 * r * r)
    x0 = (ix & m) * U32(4)
    x1 = ((ix + U32(1)) & m) * U32(4)
    y0 = (iy & m) * r4
    y1 = ((iy + U32(1)) & m) * r4
    z0 = (iz & m) * rr
    z1 = ((iz + U32(1)) & m) * rr
    a, b, c, d = z0 + y0, z0 + y1, z1 + y0, z1 + y1
    return (a + x0, a + x1, b + x0, b + x1, c + x0, c + x1, d + x0, d + x1,
            gx - fx0, gy - fy0, gz - fz0)


@njit
def corners(g, i0, i1, i2, i3, i4, i5, i6, i7, comp):
    """One velocity component at a cell's 8 corners (comp 0, 1, 2 = x, y, z)."""
    o = U32(comp)
    return (g[i0 + o], g[i1 + o], g[i2 + o], g[i3 + o], g[i4 + o], g[i5 + o], g[i6 + o],
            g[i7 + o])


@njit(fastmath=FAST)
def trilinear(c, tx, ty, tz):
    """Blend 8 corner values at fractions t; outside [0, 1] it extends the cell's polynomial."""
    sx = ONE - tx
    sy = ONE - ty
    return ((ONE - tz) * (sy * (sx * c[0] + tx * c[1]) + ty * (sx * c[2] + tx * c[3]))
            + tz * (sy * (sx * c[4] + tx * c[5]) + ty * (sx * c[6] + tx * c[7])))


@njit(fastmath=FAST)
def sample_field(g, r, inv_cell, px, py, pz):
    """Trilinear, periodic sample of an interleaved velocity grid at world point p."""
    i0, i1, i2, i3, i4, i5, i6, i7, tx, ty, tz = cell_of(r, inv_cell, px, py, pz)
    return (trilinear(corners(g, i0, i1, i2, i3, i4, i5, i6, i7, 0), tx, ty, tz),
            trilinear(corners(g, i0, i1, i2, i3, i4, i5, i6, i7, 1), tx, ty, tz),
            trilinear(corners(g, i0, i1, i2, i3, i4, i5, i6, i7, 2), tx, ty, tz))


@njit(cache=True, fastmath=FAST)
def sample_many(g, r, inv_cell, strength, x, y, z, out):
    for i in range(len(x)):
        ux, uy, uz = sample_field(g, r, inv_cell, x[i], y[i], z[i])
        out[i, 0] = ux * strength
        out[i, 1] = uy * strength
        out[i, 2] = uz * strength


@njit(parallel=True, cache=True, fastmath=FAST)
def apply_forces(g, r, inv_cell, dt, forces, kinds, count):
    """Scene forces, each visiting only the nodes inside its radius (periodic box).

    They fall off smoothly to zero at the radius with (1 − d²/R²)², a polynomial, so the
    loop stays free of libm calls. One parallel loop over z-slices, the forces inside it in
    order: a node sees its forces in the same order as one force at a time would apply them,
    without a parallel region (and its start-up cost) per force.
    """
    cell = ONE / inv_cell
    half = HALF * F32(r)
    m = r - 1
    for z in prange(r):
        for f in range(count):
            cx, cy, cz = forces[f, 0], forces[f, 1], forces[f, 2]
            rad = forces[f, 7]
            span = min(np.int64(rad * inv_cell) + 1, r // 2 - 1)
            gz = np.int64(np.floor(cz * inv_cell + half))
            oz = (z - (gz - span)) & m  # this slice's place in the force's z-range, if any
            if oz > 2 * span:
                continue
            zi = gz - span + oz
            inv_r2 = ONE / (rad * rad)
            strength = forces[f, 6] * dt
            kind = kinds[f]
            gx = np.int64(np.floor(cx * inv_cell + half))
            gy = np.int64(np.floor(cy * inv_cell + half))
            dz = (F32(zi) - half) * cell - cz
            for yi in range(gy - span, gy + span + 1):
                dy = (F32(yi) - half) * cell - cy
                row = ((zi & m) * r + (yi & m)) * r
                for xi in range(gx - span, gx + span + 1):
                    dx = (F32(xi) - half) * cell - cx
                    q = (dx * dx + dy * dy + dz * dz) * inv_r2
                    if q >= ONE:
                        continue
                    fall = (ONE - q) * (ONE - q) * strength
                    k = 4 * (row + (xi & m))
                    if kind == 0:  # attractor: towards the centre
                        s = fall / rad
                        g[k] -= s * dx
                        g[k + 1] -= s * dy
                        g[k + 2] -= s * dz
                    elif kind == 1:  # vortex: axis × offset
                        s = fall / rad
                        g[k] += s * (forces[f, 4] * dz - forces[f, 5] * dy)
                        g[k + 1] += s * (forces[f, 5] * dx - forces[f, 3] * dz)
                        g[k + 2] += s * (forces[f, 3] * dy - forces[f, 4] * dx)
                    else:  # jet: along its direction
                        g[k] += fall * forces[f, 3]
                        g[k + 1] += fall * forces[f, 4]
                        g[k + 2] += fall * forces[f, 5]


@njit(parallel=True, cache=True, fastmath=FAST)
def advect(g, ox, oy, oz, r, inv_cell, dt, keep, ng, noise_offset, noise):
    """Semi-Lagrangian advection (Stam): each node takes the velocity found one step
    upstream, decayed by `keep` (bounded energy) and stirred by the curl noise scrolled by
    noise_offset. Interleaved grid in; separate component arrays out, for the projection.

    The scroll is the same for every node, so the noise is blended from the same 8 neighbours
    with the same weights everywhere: no per-node cell search for it.
    """
    cell = ONE / inv_cell
    half = HALF * F32(r)
    m = r - 1
    gx = noise_offset[0] * inv_cell
    gy = noise_offset[1] * inv_cell
    gz = noise_offset[2] * inv_cell
    sx0, sy0, sz0 = np.floor(gx), np.floor(gy), np.floor(gz)
    fx, fy, fz = gx - sx0, gy - sy0, gz - sz0
    ix, iy, iz = np.int64(sx0) & m, np.int64(sy0) & m, np.int64(sz0) & m
    nscale = noise * dt
    um = U32(m)
    ur = U32(r)
    blocks = r // LANES  # eight nodes of a row at a time in vector code, the rest one by one
    for z in prange(r):
        pz = (F32(z) - half) * cell
        uz = U32(z)
        z0 = ((uz + U32(iz)) & um) * ur * ur
        z1 = ((uz + U32(iz + 1)) & um) * ur * ur
        for y in range(r):
            py = (F32(y) - half) * cell
            uy = U32(y)
            y0 = ((uy + U32(iy)) & um) * ur
            y1 = ((uy + U32(iy + 1)) & um) * ur
            base = (uz * ur + uy) * ur
            # unsigned offsets throughout: no wrap-around checks (see cell_of)
            rows = (U32(4) * (z0 + y0), U32(4) * (z0 + y1), U32(4) * (z1 + y0), U32(4) * (z1 + y1))
            for xb in range(blocks):
                x = LANES * xb
                advect8(g, ox, oy, oz, ng, np.uint64(base + U32(x)), np.int32(x), py, pz,
                        np.int32(r), inv_cell, cell, half, dt, keep, rows, np.int32(ix),
                        (fx, fy, fz), nscale)
            for x in range(blocks * LANES, r):
                advect_one(g, ox, oy, oz, ng, base, x, py, pz, r, inv_cell, cell, half, dt,
                           keep, rows, ix, um, fx, fy, fz, nscale)


@njit(fastmath=FAST)
def advect_one(g, ox, oy, oz, ng, base, x, py, pz, r, inv_cell, cell, half, dt, keep, rows, ix,
               um, fx, fy, fz, nscale):
    a, b, c, d = rows
    px = (F32(x) - half) * cell
    k = base + U32(x)
    k4 = U32(4) * k
    vx, vy, vz = sample_field(g, r, inv_cell, px - dt * g[k4], py - dt * g[k4 + U32(1)],
                              pz - dt * g[k4 + U32(2)])
    e = U32(4) * ((U32(x) + U32(ix)) & um)
    f = U32(4) * ((U32(x) + U32(ix + 1)) & um)
    nx = trilinear(corners(ng, a + e, a + f, b + e, b + f, c + e, c + f, d + e, d + f, 0),
                   fx, fy, fz)
    ny = trilinear(corners(ng, a + e, a + f, b + e, b + f, c + e, c + f, d + e, d + f, 1),
                   fx, fy, fz)
    nz = trilinear(corners(ng, a + e, a + f, b + e, b + f, c + e, c + f, d + e, d + f, 2),
                   fx, fy, fz)
    ox[k] = vx * keep + nx * nscale
    oy[k] = vy * keep + ny * nscale
    oz[k] = vz * keep + nz * nscale


@njit(parallel=True, cache=True, fastmath=FAST)
def resample(src, out, r, inv_cell, offset):
    """Copy a grid sampled at every node shifted by `offset` (scrolling noise)."""
    cell = ONE / inv_cell
    half = HALF * F32(r)
    for z in prange(r):
        pz = (F32(z) - half) * cell + offset[2]
        for y in range(r):
            py = (F32(y) - half) * cell + offset[1]
            base = (z * r + y) * r
            for x in range(r):
                px = (F32(x) - half) * cell + offset[0]
                k = 4 * (base + x)
                out[k], out[k + 1], out[k + 2] = sample_field(src, r, inv_cell, px, py, pz)


@njit
def _neighbours(i, m, stride):
    """Flat offsets of node i's next, previous and own row along one axis (periodic)."""
    ui = U32(i)
    return ((ui + U32(1)) & m) * stride, ((ui + m) & m) * stride, ui * stride


@njit(parallel=True, cache=True, fastmath=FAST)
def divergence(vx, vy, vz, out, r, inv_cell):
    s = HALF * inv_cell
    m = U32(r - 1)
    ur = U32(r)
    for z in prange(r):
        zp, zm, zc = _neighbours(z, m, ur * ur)
        for y in range(r):
            yp, ym, yc = _neighbours(y, m, ur)
            for x in range(r):
                xp, xm, ux = _neighbours(x, m, U32(1))
                out[zc + yc + ux] = s * (vx[zc + yc + xp] - vx[zc + yc + xm]
                                         + vy[zc + yp + ux] - vy[zc + ym + ux]
                                         + vz[zp + yc + ux] - vz[zm + yc + ux])


@njit(parallel=True, cache=True, fastmath=FAST)
def subtract_gradient(vx, vy, vz, p, g, r, inv_cell):
    """(vx, vy, vz) − ∇p, written into the interleaved grid g."""
    s = HALF * inv_cell
    m = U32(r - 1)
    ur = U32(r)
    for z in prange(r):
        zp, zm, zc = _neighbours(z, m, ur * ur)
        for y in range(r):
            yp, ym, yc = _neighbours(y, m, ur)
            for x in range(r):
                xp, xm, ux = _neighbours(x, m, U32(1))
                k = zc + yc + ux
                g[U32(4) * k] = vx[k] - s * (p[zc + yc + xp] - p[zc + yc + xm])
                g[U32(4) * k + U32(1)] = vy[k] - s * (p[zc + yp + ux] - p[zc + ym + ux])
                g[U32(4) * k + U32(2)] = vz[k] - s * (p[zp + yc + ux] - p[zm + yc + ux])
