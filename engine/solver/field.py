"""A divergence-free flow field on a periodic grid, sampled trilinearly by the kernels.

The velocity is the curl of a band-limited random vector potential, built in Fourier space,
so it has no sources or sinks: particles swirl instead of bunching. The grid is periodic and
scrolls slowly through space so the flow keeps changing without recomputation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

F32 = np.float32


class FlowField:
    """Velocity on an R³ grid covering a cube of side `extent` centred on the origin."""

    def __init__(self, resolution: int = 32, extent: float = 8.0, seed: int = 0,
                 scale: float = 2.0, strength: float = 1.0, drift=(0.05, 0.11, 0.07)) -> None:
        if resolution < 4 or resolution & (resolution - 1):
            raise ValueError("field resolution must be a power of two >= 4")
        self.resolution = resolution
        self.extent = float(extent)
        self.strength = float(strength)
        self.drift = np.asarray(drift, dtype=F32)
        self.vx, self.vy, self.vz = _curl_noise(resolution, extent, scale, seed)
        self.offset = np.zeros(3, dtype=F32)  # scrolls with time

    @property
    def inv_cell(self) -> F32:
        return F32(self.resolution / self.extent)

    def step(self, dt: float) -> None:
        self.offset += self.drift * F32(dt)

    def sample(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Velocities at points (numpy in, numpy out): for tests and tools, not the hot path."""
        out = np.empty((len(x), 3), dtype=F32)
        _sample_many(self.vx, self.vy, self.vz, self.resolution, self.inv_cell, self.offset,
                     F32(self.strength), x.astype(F32), y.astype(F32), z.astype(F32), out)
        return out


def _curl_noise(r: int, extent: float, scale: float, seed: int):
    rng = np.random.default_rng(seed)
    k = np.fft.fftfreq(r, d=extent / r) * 2 * np.pi
    kx, ky, kz = np.meshgrid(k, k, k, indexing="ij")
    kk = np.sqrt(kx**2 + ky**2 + kz**2)
    k0 = 2 * np.pi / scale  # features about `scale` world units across
    amplitude = np.exp(-((kk - k0) ** 2) / (2 * (0.5 * k0) ** 2))
    amplitude[0, 0, 0] = 0.0
    pot = [amplitude * (rng.standard_normal(kk.shape) + 1j * rng.standard_normal(kk.shape))
           for _ in range(3)]
    # v = curl A, in Fourier space i k × Â
    vx = 1j * (ky * pot[2] - kz * pot[1])
    vy = 1j * (kz * pot[0] - kx * pot[2])
    vz = 1j * (kx * pot[1] - ky * pot[0])
    comps = [np.real(np.fft.ifftn(c)) for c in (vx, vy, vz)]
    rms = np.sqrt(np.mean(sum(c**2 for c in comps)))
    # grid axes ordered (x, y, z) -> flat index ((z * r) + y) * r + x
    return tuple(np.ascontiguousarray(c.transpose(2, 1, 0) / rms, dtype=F32).ravel() for c in comps)


@njit(inline="always", fastmath=True)
def sample_field(vx, vy, vz, r, inv_cell, ox, oy, oz, px, py, pz):
    """Trilinear, periodic sample of the field at world point (px, py, pz)."""
    half = F32(0.5) * F32(r)
    gx = (px + ox) * inv_cell + half
    gy = (py + oy) * inv_cell + half
    gz = (pz + oz) * inv_cell + half
    fx0 = np.floor(gx)
    fy0 = np.floor(gy)
    fz0 = np.floor(gz)
    tx = gx - fx0
    ty = gy - fy0
    tz = gz - fz0
    m = r - 1
    x0 = np.int64(fx0) & m
    y0 = np.int64(fy0) & m
    z0 = np.int64(fz0) & m
    x1 = (x0 + 1) & m
    y1 = ((y0 + 1) & m) * r
    y0 = y0 * r
    z1 = ((z0 + 1) & m) * r * r
    z0 = z0 * r * r
    w000 = (F32(1) - tx) * (F32(1) - ty) * (F32(1) - tz)
    w100 = tx * (F32(1) - ty) * (F32(1) - tz)
    w010 = (F32(1) - tx) * ty * (F32(1) - tz)
    w110 = tx * ty * (F32(1) - tz)
    w001 = (F32(1) - tx) * (F32(1) - ty) * tz
    w101 = tx * (F32(1) - ty) * tz
    w011 = (F32(1) - tx) * ty * tz
    w111 = tx * ty * tz
    i000 = z0 + y0 + x0
    i100 = z0 + y0 + x1
    i010 = z0 + y1 + x0
    i110 = z0 + y1 + x1
    i001 = z1 + y0 + x0
    i101 = z1 + y0 + x1
    i011 = z1 + y1 + x0
    i111 = z1 + y1 + x1
    ux = (w000 * vx[i000] + w100 * vx[i100] + w010 * vx[i010] + w110 * vx[i110]
          + w001 * vx[i001] + w101 * vx[i101] + w011 * vx[i011] + w111 * vx[i111])
    uy = (w000 * vy[i000] + w100 * vy[i100] + w010 * vy[i010] + w110 * vy[i110]
          + w001 * vy[i001] + w101 * vy[i101] + w011 * vy[i011] + w111 * vy[i111])
    uz = (w000 * vz[i000] + w100 * vz[i100] + w010 * vz[i010] + w110 * vz[i110]
          + w001 * vz[i001] + w101 * vz[i101] + w011 * vz[i011] + w111 * vz[i111])
    return ux, uy, uz


@njit(cache=True, fastmath=True)
def _sample_many(vx, vy, vz, r, inv_cell, offset, strength, x, y, z, out):
    for i in range(len(x)):
        ux, uy, uz = sample_field(vx, vy, vz, r, inv_cell, offset[0], offset[1], offset[2],
                                  x[i], y[i], z[i])
        out[i, 0] = ux * strength
        out[i, 1] = uy * strength
        out[i, 2] = uz * strength
