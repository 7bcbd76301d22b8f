"""Projection-mapping geometry: corner pin (a homography) and a smooth mesh warp.

An output's image (u, v in 0..1, origin top-left, y down) goes first through the mesh (a grid
of control points inside the unit square, interpolated by Catmull-Rom splines, so it passes
through every point and bends smoothly between them), then through the corner pin: the
homography taking the unit square's corners to `corners` (top-left, top-right, bottom-right,
bottom-left, in output-normalised coordinates). The GPU draws the mesh as a fine grid of
triangles and applies the homography per vertex with a homogeneous w, so the rasteriser's
perspective-correct interpolation makes the corner pin exact.
"""

from __future__ import annotations

import numpy as np

IDENTITY_CORNERS = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
_UNIT = np.array(IDENTITY_CORNERS, np.float64)


def homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3×3 matrix H with H·(x, y, 1) ∝ (x', y', 1) for four point pairs (column vectors)."""
    a, b = [], []
    for (x, y), (u, v) in zip(np.asarray(src, np.float64), np.asarray(dst, np.float64), strict=True):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b += [u, v]
    h = np.linalg.solve(np.array(a), np.array(b))
    m = np.append(h, 1.0).reshape(3, 3)
    # keep w positive inside the square, so the GPU's clip w is positive there
    return m if (m @ [0.5, 0.5, 1.0])[2] > 0 else -m


def corner_homography(corners) -> np.ndarray:
    """Unit square → the corner-pinned quad, in output-normalised coordinates."""
    return homography(_UNIT, np.asarray(corners, np.float64))


def apply(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, np.float64)
    q = np.concatenate([p, np.ones(p.shape[:-1] + (1,))], axis=-1) @ h.T
    return q[..., :2] / q[..., 2:3]


def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a - o, b - o
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def corner_problem(corners) -> str | None:
    """Why four corners cannot be a pin (folded, twisted or collapsed), or None."""
    p = np.asarray(corners, np.float64)
    turns = np.array([_cross(p[i], p[(i + 1) % 4], p[(i + 2) % 4]) for i in range(4)])
    area = 0.5 * abs(sum(_cross(np.zeros(2), p[i], p[(i + 1) % 4]) for i in range(4)))
    if area < 1e-4 and np.abs(turns).max() < 1e-3:
        return "the corners enclose no area"
    if not (np.all(turns > 0) or np.all(turns < 0)):
        return "the corners fold over (they must go top-left, top-right, bottom-right, bottom-left " \
               "round a convex quad)"
    if np.all(turns < 0):
        return "the corners are mirrored (listed anticlockwise: top-left, top-right, bottom-right, " \
               "bottom-left go clockwise on screen)"
    return None


def regular_mesh(rows: int, cols: int) -> np.ndarray:
    """(rows, cols, 2): the identity mesh."""
    v, u = np.meshgrid(np.linspace(0, 1, rows), np.linspace(0, 1, cols), indexing="ij")
    return np.stack([u, v], axis=-1)


def _pad(m: np.ndarray, axis: int) -> np.ndarray:
    """Extend by one linearly extrapolated point at each end (splines then keep lines straight)."""
    first = 2 * np.take(m, [0], axis) - np.take(m, [1], axis)
    last = 2 * np.take(m, [-1], axis) - np.take(m, [-2], axis)
    return np.concatenate([first, m, last], axis=axis)


def _catmull_rom(t: np.ndarray) -> np.ndarray:
    """The four Catmull-Rom weights for parameters t in [0, 1], shape (..., 4)."""
    t2, t3 = t * t, t * t * t
    return 0.5 * np.stack([-t3 + 2 * t2 - t, 3 * t3 - 5 * t2 + 2, -3 * t3 + 4 * t2 + t, t3 - t2], axis=-1)


def mesh_eval(mesh, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Where image points (u, v) land inside the corner-pinned square, shape (..., 2)."""
    m = np.asarray(mesh, np.float64)
    rows, cols = m.shape[:2]
    padded = _pad(_pad(m, 0), 1)
    su, sv = np.asarray(u, np.float64) * (cols - 1), np.asarray(v, np.float64) * (rows - 1)
    iu = np.clip(np.floor(su).astype(int), 0, cols - 2)
    iv = np.clip(np.floor(sv).astype(int), 0, rows - 2)
    wu, wv = _catmull_rom(su - iu), _catmull_rom(sv - iv)
    out = np.zeros(np.shape(su) + (2,))
    for a in range(4):
        for b in range(4):
            w = (wv[..., a] * wu[..., b])[..., None]
            out += w * padded[iv + a, iu + b]
    return out


def mesh_problem(mesh) -> str | None:
    """Why a mesh cannot be a warp (its surface folds over itself), or None."""
    m = np.asarray(mesh, np.float64)
    n = 8 * max(m.shape[:2])
    v, u = np.meshgrid(np.linspace(0, 1, n + 1), np.linspace(0, 1, n + 1), indexing="ij")
    p = mesh_eval(m, u, v)
    turn = _cross(p[:-1, :-1], p[:-1, 1:], p[1:, :-1])
    if not np.all(turn > 0):
        return "the mesh folds over itself (its points must keep their order along rows and columns)"
    return None


def forward(corners, mesh, uv: np.ndarray) -> np.ndarray:
    """Image point (u, v) → output-normalised position, the whole mapping (for tests and
    calibration)."""
    uv = np.asarray(uv, np.float64)
    inner = uv if mesh is None else mesh_eval(mesh, uv[..., 0], uv[..., 1])
    return apply(corner_homography(corners), inner)


def warp_grid(mesh, cells: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (x, y inside the pinned square, u, v) and triangle indices of the warp mesh.

    Without a mesh one quad is exact (the homography is applied per vertex on the GPU); a mesh
    is tessellated finely enough that the straight pieces stay well under a pixel off the curve.
    """
    if cells is None:
        cells = 1 if mesh is None else min(128, 16 * (max(np.shape(mesh)[:2]) - 1))
    v, u = np.meshgrid(np.linspace(0, 1, cells + 1), np.linspace(0, 1, cells + 1), indexing="ij")
    pos = np.stack([u, v], -1) if mesh is None else mesh_eval(mesh, u, v)
    verts = np.concatenate([pos, np.stack([u, v], -1)], -1).reshape(-1, 4).astype(np.float32)
    k = np.arange((cells + 1) * (cells + 1)).reshape(cells + 1, cells + 1)
    a, b, c, d = k[:-1, :-1], k[:-1, 1:], k[1:, 1:], k[1:, :-1]
    tris = np.stack([a, b, c, a, c, d], -1).reshape(-1).astype(np.int32)
    return verts, tris


def blend_ramp(x: np.ndarray, width: float, exponent: float) -> np.ndarray:
    """Linear-light weight across a soft edge starting at x = 0: 0 at the outer edge, 1 past
    `width`; f(t) + f(1 - t) = 1, so two overlapping ramps sum to one."""
    if width <= 0:
        return np.ones_like(x)
    t = np.clip(x / width, 0.0, 1.0)
    low = 0.5 * np.power(2 * t, exponent)
    high = 1.0 - 0.5 * np.power(2 * (1 - t), exponent)
    return np.where(t < 0.5, low, high)


def blend_weights(blend, n: int) -> np.ndarray:
    """(2, n) display-encoded weights sampled at texel centres: row 0 across u, row 1 across v."""
    x = (np.arange(n) + 0.5) / n
    u = blend_ramp(x, blend.left, blend.exponent) * blend_ramp(1 - x, blend.right, blend.exponent)
    v = blend_ramp(x, blend.top, blend.exponent) * blend_ramp(1 - x, blend.bottom, blend.exponent)
    return np.power(np.stack([u, v]), 1.0 / blend.gamma).astype(np.float32)
