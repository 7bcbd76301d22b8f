"""The flow field: an incompressible fluid on a periodic grid, stirred by curl noise and by
forces that scenes place (vortices, attractors, jets), sampled trilinearly by the kernels.

Each step (stable fluids, after Stam): scene forces → semi-Lagrangian advection with decay
and curl-noise stirring → pressure projection. The projection solves the Poisson equation
exactly in Fourier space with the eigenvalues of the same central differences used for
divergence and gradient, so the discrete divergence after a step is zero to rounding, at the
cost of two 3D FFTs.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from engine import kernel_cache
from engine.solver import fluid_kernels as fk

F32 = np.float32
MAX_FORCES = 256
ATTRACT, VORTEX, JET = 0, 1, 2


class FlowField:
    """Velocity on an R³ grid over a periodic cube of side `extent`, centred on the origin."""

    def __init__(self, resolution: int = 64, extent: float = 8.0, seed: int = 0, scale: float = 2.0,
                 strength: float = 1.0, noise: float = 1.0, decay: float = 1.0,
                 drift=(0.05, 0.11, 0.07), fluid: bool = True) -> None:
        kernel_cache.prepare()  # once per process, before any kernel: OpenMP policy, cache
        if resolution < 4 or resolution & (resolution - 1):
            raise ValueError("field resolution must be a power of two >= 4")
        r = self.resolution = resolution
        self.extent = float(extent)
        self.strength = float(strength)  # scales what particles and strands feel
        self.noise = float(noise)  # curl-noise stirring (per second)
        self.decay = float(decay)  # velocity fades at this rate (1/s): bounded energy
        self.fluid = fluid  # False: pure scrolling curl noise, no dynamics
        self.drift = np.asarray(drift, dtype=F32)
        self.noise_grid = interleave(*curl_noise(r, extent, scale, seed))
        self.offset = np.zeros(3, dtype=F32)  # noise scroll
        size = r**3
        # the velocity the kernels sample (xyz interleaved per node); it starts as the noise
        # itself so the first frame already flows
        self.grid = self.noise_grid.copy()
        self._tmp = [np.empty(size, F32) for _ in range(3)]
        self._div = np.empty(size, F32)
        self._pressure = np.empty(size, F32)
        self._inv_laplacian = _inverse_eigenvalues(r, self.extent / r)
        self.forces = np.zeros((MAX_FORCES, 8), F32)  # cx cy cz ax ay az strength radius
        self.force_kind = np.zeros(MAX_FORCES, np.int32)
        self.force_count = 0

    @property
    def vx(self) -> np.ndarray:
        """x velocity of every node (a strided view of the grid)."""
        return self.grid[0::4]

    @property
    def vy(self) -> np.ndarray:
        return self.grid[1::4]

    @property
    def vz(self) -> np.ndarray:
        return self.grid[2::4]

    @property
    def inv_cell(self) -> F32:
        return F32(self.resolution / self.extent)

    # -- forces scenes place; each lasts one step --------------------------------------
    def _add(self, kind: int, center, vector, strength: float, radius: float) -> None:
        if self.force_count >= MAX_FORCES:
            return  # a scene placing hundreds of forces per frame gets the first 256
        row = self.forces[self.force_count]
        row[0:3] = center
        row[3:6] = vector
        row[6] = strength
        row[7] = max(radius, 1e-3)
        self.force_kind[self.force_count] = kind
        self.force_count += 1

    def attract(self, center, strength: float = 1.0, radius: float = 1.0) -> None:
        """Pull towards `center` (negative strength pushes away)."""
        self._add(ATTRACT, center, (0.0, 0.0, 0.0), strength, radius)

    def vortex(self, center, axis=(0.0, 1.0, 0.0), strength: float = 1.0, radius: float = 1.0) -> None:
        """Swirl around `axis` through `center`."""
        a = np.asarray(axis, np.float64)
        self._add(VORTEX, center, a / max(np.linalg.norm(a), 1e-9), strength, radius)

    def jet(self, center, direction=(0.0, 1.0, 0.0), strength: float = 1.0, radius: float = 0.5) -> None:
        """Push along `direction` near `center`."""
        d = np.asarray(direction, np.float64)
        self._add(JET, center, d / max(np.linalg.norm(d), 1e-9), strength, radius)

    # -- stepping ------------------------------------------------------------------------
    def step(self, dt: float) -> None:
        self.offset += self.drift * F32(dt)
        if not self.fluid:
            self._scroll_noise()
            return
        r, inv = self.resolution, self.inv_cell
        fk.apply_forces(self.grid, r, inv, F32(dt), self.forces, self.force_kind, self.force_count)
        t = self._tmp
        fk.advect(self.grid, t[0], t[1], t[2], r, inv, F32(dt), F32(np.exp(-self.decay * dt)),
                  self.noise_grid, self.offset, F32(self.noise))
        self.project(t[0], t[1], t[2], out=self.grid)
        self.force_count = 0

    def _scroll_noise(self) -> None:
        fk.resample(self.noise_grid, self.grid, self.resolution, self.inv_cell, self.offset)
        self.force_count = 0

    def project(self, u, v, w, out: np.ndarray) -> None:
        """Remove the divergent part of (u, v, w), writing it to the interleaved grid `out`."""
        r = self.resolution
        fk.divergence(u, v, w, self._div, r, self.inv_cell)
        spectrum = scipy.fft.rfftn(self._div.reshape(r, r, r), workers=-1)
        spectrum *= self._inv_laplacian
        self._pressure[:] = scipy.fft.irfftn(spectrum, s=(r, r, r), workers=-1).ravel()
        fk.subtract_gradient(u, v, w, self._pressure, out, r, self.inv_cell)

    def divergence(self) -> np.ndarray:
        """Central-difference divergence of the current velocity (for tests and tools)."""
        out = np.empty_like(self._div)
        fk.divergence(*(np.ascontiguousarray(c) for c in (self.vx, self.vy, self.vz)), out,
                      self.resolution, self.inv_cell)
        return out

    def sample(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Velocities at points (numpy in, numpy out): for tests and tools, not the hot path."""
        out = np.empty((len(x), 3), dtype=F32)
        fk.sample_many(self.grid, self.resolution, self.inv_cell, F32(self.strength),
                       x.astype(F32), y.astype(F32), z.astype(F32), out)
        return out

    def kinetic_energy(self) -> float:
        g = self.grid.reshape(-1, 4)[:, :3]
        return float(0.5 * np.mean(np.sum(g * g, axis=1)))


def interleave(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Pack three component arrays into one grid, x y z and a pad per node."""
    g = np.zeros((len(x), 4), F32)
    g[:, 0], g[:, 1], g[:, 2] = x, y, z
    return g.ravel()


def _inverse_eigenvalues(r: int, h: float) -> np.ndarray:
    """1/λ for the central-difference Laplacian (div∘grad), in rfftn layout (z, y, x//2+1)."""
    k = 2 * np.pi * np.fft.fftfreq(r)
    kx = 2 * np.pi * np.fft.rfftfreq(r)
    lam = -(np.sin(k)[:, None, None] ** 2 + np.sin(k)[None, :, None] ** 2
            + np.sin(kx)[None, None, :] ** 2) / (h * h)
    inv = np.zeros_like(lam)
    nonzero = np.abs(lam) > 1e-9
    inv[nonzero] = 1.0 / lam[nonzero]
    return inv.astype(F32)


def curl_noise(r: int, extent: float, scale: float, seed: int):
    """A divergence-free random field: the curl of a band-limited vector potential."""
    rng = np.random.default_rng(seed)
    k = np.fft.fftfreq(r, d=extent / r) * 2 * np.pi
    kz, ky, kx = np.meshgrid(k, k, k, indexing="ij")  # array axes (z, y, x)
    kk = np.sqrt(kx**2 + ky**2 + kz**2)
    k0 = 2 * np.pi / scale  # features about `scale` world units across
    amplitude = np.exp(-((kk - k0) ** 2) / (2 * (0.5 * k0) ** 2))
    amplitude[0, 0, 0] = 0.0
    pot = [amplitude * (rng.standard_normal(kk.shape) + 1j * rng.standard_normal(kk.shape))
           for _ in range(3)]
    vx = 1j * (ky * pot[2] - kz * pot[1])
    vy = 1j * (kz * pot[0] - kx * pot[2])
    vz = 1j * (kx * pot[1] - ky * pot[0])
    comps = [np.real(np.fft.ifftn(c)) for c in (vx, vy, vz)]
    rms = np.sqrt(np.mean(sum(c**2 for c in comps)))
    return tuple(np.ascontiguousarray(c / rms, dtype=F32).ravel() for c in comps)
