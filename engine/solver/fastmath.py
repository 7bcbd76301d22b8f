"""Small inlined helpers for the Numba kernels: polynomial sin/cos and counter-based random.

llvmlite on this class of machine has no vector math library, so a libm `sin` inside a loop
keeps the loop scalar; these polynomials vectorise. Randomness is a pure hash of
(seed, index, counter), so parallel loops share no generator state and stay deterministic.

Helpers for kernels (here, in fluid_kernels, particles, render/cpu_lines) are plain `@njit`,
not `inline="always"`: LLVM inlines them all the same (no call to one is left in a kernel's
machine code, and the frames are bit-identical), while Numba's own IR inlining copied their
IR into every caller and roughly doubled the compile time of a first run.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

# Fast-math for every kernel, but without FMA contraction ("contract") and reassociation
# ("reassoc"): with either, the code Numba compiles in-process rounds differently from the code
# it loads from its cache, so the first (compiling) run of a scene and every later run gave
# frames a few bits apart. Without them, same seed and input give identical frames, cache or
# not (tests/test_determinism.py).
FAST = {"nnan", "ninf", "nsz", "arcp", "afn"}  # Numba wants a set

F32 = np.float32
PI = F32(np.pi)
HALF_PI = F32(np.pi / 2)
TWO_PI = F32(2 * np.pi)
INV_TWO_PI = F32(1 / (2 * np.pi))
# Taylor coefficients of sin on [-pi/2, pi/2]; max error about 4e-6
S3 = F32(-1 / 6)
S5 = F32(1 / 120)
S7 = F32(-1 / 5040)
S9 = F32(1 / 362880)
ONE = F32(1.0)
HALF = F32(0.5)
ZERO = F32(0.0)
INV_2_24 = F32(1.0 / (1 << 24))


@intrinsic
def fma(typingctx, a, b, c):
    """a·b + c in float32, rounded once. Fused where the code says so, never by the compiler's
    choice (see FAST): the same result from freshly compiled and from cached code."""
    if not all(t == types.float32 for t in (a, b, c)):
        return None

    def codegen(context, builder, signature, args):
        f = ir.FloatType()
        fn = builder.module.declare_intrinsic("llvm.fma", [f], ir.FunctionType(f, [f, f, f]))
        return builder.call(fn, args)

    return types.float32(types.float32, types.float32, types.float32), codegen


@njit(fastmath=FAST)
def fsin(x):
    """sin(x) for float32 x of any size, by range reduction and an odd polynomial."""
    x = x - TWO_PI * np.floor(x * INV_TWO_PI + HALF)  # now in [-pi, pi]
    if x > HALF_PI:
        x = PI - x
    elif x < -HALF_PI:
        x = -PI - x
    x2 = x * x
    return x * (ONE + x2 * (S3 + x2 * (S5 + x2 * (S7 + x2 * S9))))


@njit(fastmath=FAST)
def fcos(x):
    return fsin(x + HALF_PI)


@njit
def hash_u32(seed, index, counter):
    """A well-mixed 32-bit value from three integers (splitmix64 finaliser)."""
    z = (
        np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        + np.uint64(index) * np.uint64(0xBF58476D1CE4E5B9)
        + np.uint64(counter) * np.uint64(0x94D049BB133111EB)
    )
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return np.uint32(z >> np.uint64(32))


@njit
def uniform(seed, index, counter):
    """A float32 in [0, 1) from (seed, index, counter)."""
    return F32(hash_u32(seed, index, counter) >> np.uint32(8)) * INV_2_24
