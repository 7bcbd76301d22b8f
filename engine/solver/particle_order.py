"""Keeps particles that are close in space close in memory, a block at a time.

Particles wander and are reborn anywhere on the strands, so their order in the arrays soon
has nothing to do with where they are: every grid lookup in `advance` and every pixel the
renderer's CPU splat adds to lands somewhere new in memory. Measured at 1080p with 1M
particles, the splat's accumulation takes 6–7 ms in that order and about 2 ms once particles
are sorted by grid cell.

Sorting all particles every frame would cost more than it saves, so `BlockSorter` sorts one
block of the arrays (1/`blocks` of them) per step by cell, a stable counting sort into
preallocated scratch: each block is re-sorted every `blocks` steps and the cost per step is
small and constant (no spike). Particles keep every attribute; only their order changes, and
it depends only on the state, so results stay deterministic.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from engine.solver.fastmath import FAST

F32 = np.float32


class BlockSorter:
    def __init__(self, count: int, blocks: int = 8) -> None:
        self.blocks = max(1, blocks)
        self.count = count
        self.size = (count + self.blocks - 1) // self.blocks
        self.next = 0
        self._key = np.zeros(self.size, np.int32)
        self._perm = np.zeros(self.size, np.int32)
        self._counts = np.zeros(0, np.int32)
        self._f32 = np.zeros((7, self.size), F32)
        self._i32 = np.zeros(self.size, np.int32)
        self._u32 = np.zeros(self.size, np.uint32)

    def sort_next(self, p, resolution: int, extent: float) -> None:
        """Sort the next block of particle solver `p` by cell of a grid of half the field's
        resolution (cells of 2×2×2 field cells: about one cache line of the field each)."""
        r = max(2, resolution // 2)
        if len(self._counts) != r**3:
            self._counts = np.zeros(r**3, np.int32)
        lo = self.next * self.size
        hi = min(p.count, lo + self.size)
        self.next = (self.next + 1) % self.blocks
        if hi - lo < 2:
            return
        order_block(p.x, p.y, p.z, lo, hi, r, F32(r / extent), self._key, self._counts, self._perm)
        permute(lo, hi, self._perm, p.x, p.y, p.z, p.age, p.life, p.fade, p.tint, p.owner,
                p.spawns, self._f32, self._i32, self._u32)


@njit(cache=True, fastmath=FAST)
def order_block(x, y, z, lo, hi, r, inv_cell, key, counts, perm):
    """perm[k] = which particle (relative to lo) goes to slot lo + k, stably by cell."""
    half = F32(0.5) * F32(r)
    m = r - 1
    n = hi - lo
    counts[:] = 0
    for k in range(n):
        i = lo + k
        cx = np.int64(np.floor(x[i] * inv_cell + half)) & m
        cy = np.int64(np.floor(y[i] * inv_cell + half)) & m
        cz = np.int64(np.floor(z[i] * inv_cell + half)) & m
        c = (cz * r + cy) * r + cx
        key[k] = c
        counts[c] += 1
    total = 0
    for c in range(len(counts)):
        v = counts[c]
        counts[c] = total
        total += v
    for k in range(n):
        c = key[k]
        perm[counts[c]] = k
        counts[c] += 1


@njit(parallel=True, cache=True)
def permute(lo, hi, perm, x, y, z, age, life, fade, tint, owner, spawns, f32, i32, u32):
    """Every attribute of the block into its new order (through scratch, in parallel)."""
    n = hi - lo
    for k in prange(n):
        j = lo + perm[k]
        f32[0, k] = x[j]
        f32[1, k] = y[j]
        f32[2, k] = z[j]
        f32[3, k] = age[j]
        f32[4, k] = life[j]
        f32[5, k] = fade[j]
        f32[6, k] = tint[j]
        i32[k] = owner[j]
        u32[k] = spawns[j]
    for k in prange(n):
        i = lo + k
        x[i] = f32[0, k]
        y[i] = f32[1, k]
        z[i] = f32[2, k]
        age[i] = f32[3, k]
        life[i] = f32[4, k]
        fade[i] = f32[5, k]
        tint[i] = f32[6, k]
        owner[i] = i32[k]
        spawns[i] = u32[k]
