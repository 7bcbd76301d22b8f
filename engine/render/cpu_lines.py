"""Strands as anti-aliased luminous threads drawn by the CPU, for software GL (llvmpipe).

Through llvmpipe every GL line costs about 0.3 µs of set-up on the calling thread, so the
65,000 segments of 1,000 strands take 20–30 ms a frame at 1080p, and GL draws them as hard
one-pixel lines. These Numba passes draw them into the renderer's float32 canvas instead,
which then becomes the HDR target's starting image together with the particle splat.

Each line carries the light a ribbon of the wanted width would (`shaders/chunks/
strand_light.glsl`, ported line for line), spread across the line by a profile: a bright
core about 2.5 px wide inside a soft halo as wide as the ribbon. The profile is sampled at
the exact sub-pixel position of the line and normalised, so a thread carries the same light
wherever it falls between pixels: it glides instead of crawling or pulsing as it moves.

1. `_project`: every strand point once: clip position, light and width, as the vertex
   shader does, and for points inside the near and far planes their window position and 1/w.
2. `_draw`: each worker owns a band of rows and draws the part of every segment that falls
   in it (one step per column or row along the line's major axis, colour interpolated
   perspective-correctly, the profile across it). Segments with both ends inside the depth
   range start from the precomputed window positions; only the rare ones crossing the near
   or far plane are clipped. Bands never overlap, so the result does not depend on thread
   timing.
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

from engine.solver.fastmath import FAST

F32 = np.float32
ONE = F32(1.0)
HALF = F32(0.5)
ZERO = F32(0.0)
EPS = F32(1e-7)
MAX_SPREAD = 4  # a thread's profile is stretched at most this many times (wide 4K ribbons)


class StrandRasterizer:
    """Preallocated per-point buffers for one strand layer."""

    def __init__(self, points: int) -> None:
        self.clip = np.zeros((points, 4), F32)
        self.window = np.zeros((points, 3), F32)  # x, y in pixels; 1/w, 0 when outside
        self.light = np.zeros((points, 3), F32)
        self.width = np.zeros(points, F32)  # the line's width here, in pixels
        self.bands = max(1, 2 * get_num_threads())  # two bands per worker balance the load

    def paint(self, image: np.ndarray, view: np.ndarray, proj: np.ndarray, solver, rgba: np.ndarray,
              alpha: np.ndarray, width: float, pixel_scale: float, intensity: float,
              depth_fade: float, clear: bool) -> None:
        """Add the strands' light into `image` ((h, w, 4) float32, bottom row first); with
        `clear`, the image is zeroed first (band by band, by the same workers)."""
        s = solver
        centre = float(np.linalg.norm(view[3, :3]))
        h, w = image.shape[:2]
        _project(s.x, s.y, s.z, view.astype(F32), (view @ proj).astype(F32), s.strands, s.points,
                 s.strands_per_bundle, rgba, alpha, F32(width * pixel_scale), F32(intensity),
                 F32(depth_fade), F32(centre), w, h, self.clip, self.window, self.light, self.width)
        _draw(self.clip, self.window, self.light, self.width, s.strands, s.points, image,
              self.bands, clear)


@njit(parallel=True, cache=True, fastmath=FAST)
def _project(x, y, z, view, vp, n, m, per_bundle, rgba, alpha, width_px, intensity, depth_fade,
             centre, w, h, clip, window, light, widths):
    """Clip position, window position and light of point k = j·N + i (point j of strand i);
    a point of a hidden bundle gets w = −1, which no segment survives."""
    fw, fh = F32(w), F32(h)
    inv_m = ONE / F32(max(m - 1, 1))
    for k in prange(len(x)):
        j = k // n
        i = k - j * n
        b = i // per_bundle
        s = F32(j) * inv_m
        px, py, pz = x[k], y[k], z[k]
        # row-vector convention (pyrr): eye = (p, 1) · view, clip = (p, 1) · view · proj
        depth = -(px * view[0, 2] + py * view[1, 2] + pz * view[2, 2] + view[3, 2])
        cue = np.exp(-depth_fade * max(depth - centre, ZERO))
        width = width_px * (ONE - F32(0.65) * s)
        widths[k] = max(width, ZERO)
        gain = rgba[b, 3] * alpha[b] * intensity * (F32(1.2) - F32(0.6) * s) * cue \
            * F32(0.515) * max(width, ZERO)
        light[k, 0] = rgba[b, 0] * gain
        light[k, 1] = rgba[b, 1] * gain
        light[k, 2] = rgba[b, 2] * gain
        for c in range(4):
            clip[k, c] = px * vp[0, c] + py * vp[1, c] + pz * vp[2, c] + vp[3, c]
        cw = clip[k, 3]
        if alpha[b] <= ZERO:
            clip[k, 3] = -ONE
        elif cw > EPS and clip[k, 2] >= -cw and clip[k, 2] <= cw:
            iw = ONE / cw
            window[k, 0] = (clip[k, 0] * iw * HALF + HALF) * fw
            window[k, 1] = (clip[k, 1] * iw * HALF + HALF) * fh
            window[k, 2] = iw
        else:
            window[k, 2] = ZERO  # outside the depth range: its segments get clipped


@njit(parallel=True, cache=True, fastmath=FAST)
def _draw(clip, window, light, widths, n, m, out, bands, clear):
    h, w, _ = out.shape
    flat = out.reshape(h * w, 4)
    rows = (h + bands - 1) // bands
    for band in prange(bands):
        lo = band * rows
        hi = min(h, lo + rows)
        if clear:
            flat[lo * w:hi * w] = ZERO
        for a in range((m - 1) * n):
            b = a + n
            if clip[a, 3] == -ONE or clip[b, 3] == -ONE:
                continue
            reach = F32(2 * _spread(widths[a], widths[b]) + 1)  # rows the profile reaches
            flo, fhi = F32(lo) - reach, F32(hi) + reach
            t0, t1 = ZERO, ONE
            if window[a, 2] > ZERO and window[b, 2] > ZERO:  # both ends inside: no clipping
                y0, y1 = window[a, 1], window[b, 1]
                if max(y0, y1) < flo or min(y0, y1) >= fhi:
                    continue
                x0, x1 = window[a, 0], window[b, 0]
                iw0, iw1 = window[a, 2], window[b, 2]
            else:
                ok, t0, t1, x0, y0, iw0, x1, y1, iw1 = _clip(clip, a, b, w, h)
                if not ok or max(y0, y1) < flo or min(y0, y1) >= fhi:
                    continue
            _segment(flat, w, lo, hi, x0, y0, iw0, x1, y1, iw1, light, widths, a, b, t0, t1)


@njit(fastmath=FAST)
def _spread(wa, wb):
    """How many times the thread's profile is stretched (an integer, so its samples still
    add up to exactly 1): once for ends up to 2.5 px wide, more for wider ribbons."""
    return min(max(np.int64(HALF * (wa + wb) * F32(0.4)), 1), MAX_SPREAD)


@njit(fastmath=FAST)
def _across(flat, base, stride, lo, hi, centre, spread, r, g, b):
    """Add light (r, g, b) across a line at sub-pixel position `centre` on the minor axis,
    as the quadratic B-spline stretched `spread` times: its samples at pixel centres add up
    to exactly 1 wherever the centre falls (a partition of unity), so a thread keeps its
    light as it moves. Only pixels lo..hi (flat index base + k·stride)."""
    if spread == 1:  # the common case, unrolled: three pixels
        k = np.int64(np.floor(centre))
        f = centre - F32(k)  # 0..1 across pixel k; 0.5 is its centre
        w0 = HALF * (ONE - f) * (ONE - f)
        w2 = HALF * f * f
        w1 = ONE - w0 - w2
        if k - 1 >= lo and k - 1 < hi:
            _put(flat, base + (k - 1) * stride, w0, r, g, b)
        if k >= lo and k < hi:
            _put(flat, base + k * stride, w1, r, g, b)
        if k + 1 >= lo and k + 1 < hi:
            _put(flat, base + (k + 1) * stride, w2, r, g, b)
        return
    inv = ONE / F32(spread)
    u = centre - HALF  # in pixel-centre coordinates
    first = np.int64(np.floor(u - F32(1.5) * F32(spread))) + 1
    for k in range(max(first, lo), min(first + 3 * spread, hi)):
        x = abs(F32(k) - u) * inv
        if x < HALF:
            q = F32(0.75) - x * x
        else:
            v = max(F32(1.5) - x, ZERO)
            q = HALF * v * v
        _put(flat, base + k * stride, q * inv, r, g, b)


@njit(fastmath=FAST)
def _put(flat, p, q, r, g, b):
    flat[p, 0] += q * r
    flat[p, 1] += q * g
    flat[p, 2] += q * b


@njit(fastmath=FAST)
def _clip(clip, a, b, w, h):
    """The part of segment a–b inside the near (z ≥ −w) and far (z ≤ w) planes: whether there
    is one, its parameter range, and its ends' window position and 1/w."""
    aw, bw = clip[a, 3], clip[b, 3]
    ax, ay, az = clip[a, 0], clip[a, 1], clip[a, 2]
    bx, by, bz = clip[b, 0], clip[b, 1], clip[b, 2]
    t0, t1 = ZERO, ONE
    dn_a, dn_b = az + aw, bz + bw
    df_a, df_b = aw - az, bw - bz
    if (dn_a < ZERO and dn_b < ZERO) or (df_a < ZERO and df_b < ZERO):
        return False, t0, t1, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO
    if dn_a < ZERO:
        t0 = dn_a / (dn_a - dn_b)
    elif dn_b < ZERO:
        t1 = dn_a / (dn_a - dn_b)
    if df_a < ZERO:
        t0 = max(t0, df_a / (df_a - df_b))
    elif df_b < ZERO:
        t1 = min(t1, df_a / (df_a - df_b))
    w0 = aw + t0 * (bw - aw)
    w1 = aw + t1 * (bw - aw)
    if t0 >= t1 or w0 <= EPS or w1 <= EPS:
        return False, t0, t1, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO
    iw0, iw1 = ONE / w0, ONE / w1
    fw, fh = F32(w), F32(h)
    x0 = ((ax + t0 * (bx - ax)) * iw0 * HALF + HALF) * fw
    y0 = ((ay + t0 * (by - ay)) * iw0 * HALF + HALF) * fh
    x1 = ((ax + t1 * (bx - ax)) * iw1 * HALF + HALF) * fw
    y1 = ((ay + t1 * (by - ay)) * iw1 * HALF + HALF) * fh
    return True, t0, t1, x0, y0, iw0, x1, y1, iw1


@njit(fastmath=FAST)
def _segment(flat, w, lo, hi, x0, y0, iw0, x1, y1, iw1, light, widths, a, b, t0, t1):
    """Rows lo..hi of the thread (x0, y0)–(x1, y1), the visible part t0..t1 of segment a–b,
    its light interpolated with 1/w: one step per pixel along the major axis (the light of
    a one-pixel GL line), spread across the line by the core-and-halo profile."""
    ra, ga, ba = light[a, 0], light[a, 1], light[a, 2]
    r0 = ra + t0 * (light[b, 0] - ra)
    g0 = ga + t0 * (light[b, 1] - ga)
    b0 = ba + t0 * (light[b, 2] - ba)
    r1 = ra + t1 * (light[b, 0] - ra)
    g1 = ga + t1 * (light[b, 1] - ga)
    b1 = ba + t1 * (light[b, 2] - ba)
    dx, dy = x1 - x0, y1 - y0
    spread = _spread(widths[a], widths[b])
    reach = F32(2 * spread)
    if abs(dx) >= abs(dy):
        # one step in each column whose centre lies in [x0, x1); the profile runs down it
        if dx == ZERO:
            return
        c0 = max(np.int64(np.ceil(min(x0, x1) - HALF)), 0)
        c1 = min(np.int64(np.ceil(max(x0, x1) - HALF)), w)
        inv = ONE / dx
        for col in range(c0, c1):
            t = (F32(col) + HALF - x0) * inv
            yc = y0 + t * dy
            if yc + reach < F32(lo) or yc - reach >= F32(hi):
                continue
            r, g, bl = _lerp(t, iw0, iw1, r0, g0, b0, r1, g1, b1)
            _across(flat, col, w, lo, hi, yc, spread, r, g, bl)
    else:
        # one step in each row of this band whose centre is in [y0, y1); the profile along it
        q0 = max(np.int64(np.ceil(min(y0, y1) - HALF)), lo)
        q1 = min(np.int64(np.ceil(max(y0, y1) - HALF)), hi)
        inv = ONE / dy
        for row in range(q0, q1):
            t = (F32(row) + HALF - y0) * inv
            r, g, bl = _lerp(t, iw0, iw1, r0, g0, b0, r1, g1, b1)
            _across(flat, row * w, 1, 0, w, x0 + t * dx, spread, r, g, bl)


@njit(fastmath=FAST)
def _lerp(t, iw0, iw1, r0, g0, b0, r1, g1, b1):
    """The colour at parameter t of a screen-space segment, interpolated with 1/w (as GL
    interpolates a vertex output)."""
    a = (ONE - t) * iw0
    wa = a / max(a + t * iw1, EPS)
    wb = ONE - wa
    return wa * r0 + wb * r1, wa * g0 + wb * g1, wa * b0 + wb * b1
