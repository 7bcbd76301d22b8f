"""Numba kernels for the per-sample work of the causal features.

A live show may get hundreds of small chunks per frame (64 participants × 4 channels at 60
fps), so the per-call overhead of NumPy/SciPy routines, not the arithmetic, would dominate.
Each kernel here walks one chunk sample by sample in compiled code and keeps its state in
small arrays owned by the caller, so a chunk costs a few microseconds and the result does
not depend on how the stream was cut into chunks.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def sos_run(sos, zi, x, out):
    """Cascaded biquads (scipy's sos layout, a0 = 1), transposed direct form II, in place state."""
    for i in range(x.size):
        s = x[i]
        for k in range(sos.shape[0]):
            y = sos[k, 0] * s + zi[k, 0]
            zi[k, 0] = sos[k, 1] * s - sos[k, 4] * y + zi[k, 1]
            zi[k, 1] = sos[k, 2] * s - sos[k, 5] * y
            s = y
        out[i] = s


@njit(cache=True, nogil=True)
def fir_run(taps, hist, pos, x, out):
    """FIR filter with a circular history; pos[0] is the next write index."""
    n = taps.size
    p = pos[0]
    for i in range(x.size):
        hist[p] = x[i]
        acc = 0.0
        j = p
        for k in range(n):
            acc += taps[k] * hist[j]
            j -= 1
            if j < 0:
                j = n - 1
        out[i] = acc
        p += 1
        if p == n:
            p = 0
    pos[0] = p


# BlockBeats state: f = [ssum, lsum, mean_e, n_seen, t_first, t_prev, block_start, peak_v, peak_t,
#                        last_beat, in_block]; rings: short, long, delayed short, delayed time
@njit(cache=True, nogil=True)
def blocks_run(t, e, f, ip, sring, lring, dring, tring, params, out):
    """Elgendi-style blocks: short vs long moving average of an energy signal; returns beats found.

    params = [factor, offset, refractory, min_width, center, energy_window];
    ip = [short pos, long pos, delay pos]."""
    factor, offset, refractory, min_width, center, window = params
    ns, nl, nd = sring.size, lring.size, dring.size
    nout = 0
    for i in range(e.size):
        x = e[i]
        ti = t[i]
        f[0] += x - sring[ip[0]]
        sring[ip[0]] = x
        ip[0] += 1
        if ip[0] == ns:
            ip[0] = 0
            f[0] = sring.sum()  # no drift from the running sum
        f[1] += x - lring[ip[1]]
        lring[ip[1]] = x
        ip[1] += 1
        if ip[1] == nl:
            ip[1] = 0
            f[1] = lring.sum()
        s_now = f[0] / ns
        if nd > 0:
            s_d = dring[ip[2]]
            t_d = tring[ip[2]]
            dring[ip[2]] = s_now
            tring[ip[2]] = ti
            ip[2] += 1
            if ip[2] == nd:
                ip[2] = 0
        else:
            s_d = s_now
            t_d = ti
        f[3] += 1.0
        if f[3] == 1.0:
            f[4] = ti
            f[5] = ti
        if ti - f[4] < window:
            f[2] += (x - f[2]) / f[3]
        else:
            f[2] += (x - f[2]) * min(1.0, (ti - f[5]) / window)
        f[5] = ti
        if math.isinf(t_d):
            continue
        if s_d > factor * (f[1] / nl) + offset * f[2]:
            if f[10] == 0.0:
                f[10] = 1.0
                f[6] = t_d
                f[7] = -np.inf
            if s_d > f[7]:
                f[7] = s_d
                f[8] = t_d
        elif f[10] != 0.0:
            f[10] = 0.0
            if t_d - f[6] >= min_width:
                tb = f[8] - center
                if tb - f[9] >= refractory:
                    if nout < out.size:
                        out[nout] = tb
                        nout += 1
                    f[9] = tb
    return nout


# Breath state: [mean, amp, rate, phase, value, deriv, last_t, last_x, above, last_cross, first_t, started,
#                in_artifact, extreme, extreme_t, looking (1 peak, -1 trough), last_peak, last_trough,
#                depth (typical peak-to-trough)]
@njit(cache=True, nogil=True)
def breath_run(t, x, mask, s, window, hysteresis, out, out_p):
    """The BreathTracker update (see engine.signals.breath) over a chunk; returns breaths found.

    Phase: from the baseline, amplitude and slope. Breaths: inhale peaks, each confirmed once
    the signal has fallen `hysteresis` × (the typical peak-to-trough depth) below it, and only
    after a trough as deep has come between (ripples, talking and small bursts are not breaths).
    Samples with mask != 0 lie in an artifact span: the tracker holds its phase, baseline and
    amplitude, forgets its last peak (no breath interval spans the artifact), and restarts its
    baseline and its search for a peak at the first clean sample (a belt slip moves the level)."""
    nout = 0
    for i in range(x.size):
        ti, xi = t[i], x[i]
        if s[11] == 0.0:
            s[0], s[6], s[7], s[10], s[11] = xi, ti, xi, ti, 1.0
            s[13], s[14], s[15], s[16], s[17] = xi, ti, 1.0, math.nan, math.nan
            continue
        dt = ti - s[6]
        if dt <= 0.0:
            continue
        if mask[i] != 0:
            s[6], s[7], s[12], s[16], s[17] = ti, xi, 1.0, math.nan, math.nan
            continue
        if s[12] != 0.0:
            s[0], s[5], s[12] = xi, 0.0, 0.0
            s[13], s[14], s[15] = xi, ti, 1.0
        a = min(dt / window, 1.0)
        s[0] += a * (xi - s[0])
        s[1] += a * (abs(xi - s[0]) * math.pi / 2.0 - s[1])
        d = (xi - s[7]) / dt
        s[5] += min(dt / 0.2, 1.0) * (d - s[5])
        s[6], s[7] = ti, xi
        centred = xi - s[0]
        h = hysteresis * (s[18] if s[18] > 0.0 else 2.0 * s[1])
        if s[15] > 0.0:  # climbing to a peak
            if xi > s[13]:
                s[13], s[14] = xi, ti
            elif s[13] - xi > h:  # the peak is confirmed
                if not math.isnan(s[17]):
                    depth = s[13] - s[17]
                    s[18] = depth if s[18] <= 0.0 else s[18] + 0.2 * (depth - s[18])
                    s[18] = min(max(s[18], s[1]), 2.5 * s[1])  # no runaway after a missed trough
                if not math.isnan(s[16]):
                    period = s[14] - s[16]
                    if 1.0 < period < 30.0:
                        s[2] += 0.3 * (60.0 / period - s[2])
                        if nout < out.size:
                            out[nout] = s[14]
                            out_p[nout] = period
                            nout += 1
                s[16] = s[14]
                s[13], s[14], s[15] = xi, ti, -1.0
        else:  # falling to a trough
            if xi < s[13]:
                s[13], s[14] = xi, ti
            elif xi - s[13] > h:
                s[17] = s[13]
                s[13], s[14], s[15] = xi, ti, 1.0
        omega = 2.0 * math.pi * s[2] / 60.0
        s[3] = math.atan2(-s[5] / omega, centred) % (2.0 * math.pi)
        s[4] = max(-1.5, min(1.5, centred / max(s[1], 1e-6)))
    return nout


# EDA state: [tonic, phasic, last_t, in_scr, started, last_x, slope, base, peak, onset_t, peaked]
@njit(cache=True, nogil=True)
def eda_run(t, x, s, params, out_t, out_v):
    """Tonic/phasic skin conductance; returns the SCRs whose peak this chunk contains.

    params = [down_tau, up_tau, rise (µS/s that starts a response), min_amp, max_len]."""
    down_tau, up_tau, rise, min_amp, max_len = params
    nout = 0
    for i in range(x.size):
        ti, xi = t[i], x[i]
        if s[4] == 0.0:
            s[0], s[2], s[4], s[5] = xi, ti, 1.0, xi
            continue
        dt = ti - s[2]
        if dt <= 0.0:
            continue
        s[6] += min(dt / 0.5, 1.0) * ((xi - s[5]) / dt - s[6])  # slope, smoothed over ~0.5 s
        s[2], s[5] = ti, xi
        if s[3] == 0.0:
            if s[6] > rise:  # a response starts: the level it rises from is the tonic
                s[3], s[7], s[8], s[9], s[10] = 1.0, s[0], xi, ti, 0.0
            else:
                tau = down_tau if xi < s[0] else up_tau
                s[0] += (1.0 - math.exp(-dt / tau)) * (xi - s[0])
        else:
            if xi > s[8]:
                s[8] = xi
            if s[10] == 0.0 and s[6] <= 0.0:  # past the peak
                s[10] = 1.0
                amp = s[8] - s[7]
                if amp >= min_amp and nout < out_t.size:
                    out_t[nout] = ti
                    out_v[nout] = amp
                    nout += 1
            settled = s[10] != 0.0 and s[6] > -0.005  # the decay has flattened out
            if settled or xi < s[7] or ti - s[9] > max_len:
                s[3] = 0.0
                s[0] = xi
        s[1] = max(xi - s[0], 0.0)
    return nout


@njit(cache=True, nogil=True)
def ring_put(rt, rv, head, t, v):
    """Write samples into a circular buffer from index head; returns the new head."""
    cap = rt.size
    for i in range(t.size):
        rt[head] = t[i]
        rv[head] = v[i]
        head += 1
        if head == cap:
            head = 0
    return head


@njit(cache=True, nogil=True)
def clean_run(t, v, lo, hi, out_t, out_v):
    """Drop non-finite samples and clip to [lo, hi]; returns (kept, sum of kept)."""
    n = 0
    total = 0.0
    for i in range(v.size):
        x = v[i]
        ti = t[i]
        if not (math.isfinite(x) and math.isfinite(ti)):
            continue
        if x < lo:
            x = lo
        elif x > hi:
            x = hi
        out_t[n] = ti
        out_v[n] = x
        total += x
        n += 1
    return n, total
