"""Per-sample artifact detection (compiled): flat lines, clipping, steps, bursts, swings, dropouts.

Every measure compares the newest samples with references learnt from the same stream's own
clean past, so one kernel serves every sensor, gain and sampling rate:

- flat line: the value has not changed for `flat_min` seconds (lead off, frozen sensor);
  clipping: the same, shorter, at a value far from the baseline (a saturated amplifier);
- step / electrode pop: a sample-to-sample slope several times the typical peak slope (the
  QRS upstroke on ECG, the pulse upstroke on PPG, the inhale on a belt);
- movement burst: the short-term mean |slope| several times its clean long-term mean (noise is
  dense where a physiological waveform is spiky: the kurtosis idea, causal and per sample);
- swing: the short-term amplitude around the baseline several times the clean amplitude, or
  (belt) the breath-averaged level (two `tau_mid` stages, which cancel most of a breath) staying
  for `drift_min` seconds more than `k_drift` clean breath sizes away from the slow level
  (`tau_slow`): a belt slip, a wearer leaning or swaying, slower than breathing and larger than
  it; dropout: the amplitude far below the clean one (a loose sensor).

The references adapt only on clean samples (and again after `relearn` seconds of artifact, so
a real change of gain is eventually accepted). A flagged sample opens an artifact span that
closes `hold` seconds after the last flagged sample; a flat run is dated back to its start.
"""

from __future__ import annotations

import math

from numba import njit

FLAT, CLIP, STEP, BURST, SWING, DROPOUT = 1, 2, 4, 8, 16, 32
IN_SPAN = 64  # set on every sample of an open span (flagged, or within `hold` of a flagged one)
KINDS = {FLAT: "flat", CLIP: "clipping", STEP: "step", BURST: "burst", SWING: "swing", DROPOUT: "dropout"}

# state: 0 started, 1 prev_t, 2 prev_x, 3 changed_t, 4 base, 5 a_s, 6 a_l, 7 peak env, 8 p_l, 9 r_s,
# 10 r_l, 11 span start (nan: none), 12 last flagged t, 13 quality, 14 first_t, 15 span kinds,
# 16 flagged since (nan: not), 17 seconds inside spans (total), 18 seen seconds (total), 19-20 the
# breath-averaged level (two EMA stages), 21 the slow level, 22 the clean breath size around the
# breath-averaged level, 23 since when that level has been off the slow one (nan: it is not),
# 24 the movement factor (1: the level holds still; 0: it moves k_drift breath sizes)
NSTATE = 25
# the movement factor falls with a time constant of SOFT_FALL tau_mid (about one breath on a belt):
# what a breath leaves in the breath-averaged level comes and goes within a breath, a swing stays
SOFT_FALL = 6.0
# params: 0 tau_base, 1 tau_short, 2 tau_long, 3 tau_amp, 4 k_burst, 5 k_step, 6 k_swing,
# 7 k_dropout, 8 flat_min, 9 clip_min, 10 hold, 11 warm, 12 relearn, 13 q_down, 14 q_up, 15 peak_tau,
# 16 tau_mid, 17 k_drift, 18 tau_slow, 19 drift_min, 20 drift_soft (where the movement factor starts
# to fall), 21 drift_learn (the clean breath size learns only while the level is nearer than this)


@njit(cache=True, nogil=True)
def _ema(v, x, dt, tau):
    return v + min(dt / tau, 1.0) * (x - v)


@njit(cache=True, nogil=True)
def artifact_run(t, x, s, p, flags, quality, spans):
    """Flags each sample (bit mask of kinds, IN_SPAN), the quality after it, and the spans that closed.

    spans rows: (start, end, kinds); returns how many rows were written."""
    nspan = 0
    for i in range(x.size):
        ti, xi = t[i], x[i]
        if s[0] == 0.0:
            s[0], s[1], s[2], s[3], s[4], s[14] = 1.0, ti, xi, ti, xi, ti
            s[19], s[20], s[21], s[23], s[24] = xi, xi, xi, math.nan, 1.0
            flags[i] = 0
            quality[i] = s[13] * s[24]
            continue
        dt = ti - s[1]
        if dt <= 0.0:
            flags[i] = 0
            quality[i] = s[13] * s[24]
            continue
        slope = abs(xi - s[2]) / dt
        if xi != s[2]:
            s[3] = ti
        s[1], s[2] = ti, xi
        s[18] += dt
        warm = ti - s[14] < p[11]
        s[4] = _ema(s[4], xi, dt, p[0])
        s[19] = _ema(s[19], xi, dt, p[16])
        s[20] = _ema(s[20], s[19], dt, p[16])
        s[21] = _ema(s[21], xi, dt, p[18])
        r = abs(s[20] - s[21]) / s[22] if s[22] > 0.0 else 0.0
        drift = r > p[17]
        if not drift:
            s[23] = math.nan
        elif math.isnan(s[23]):
            s[23] = ti
        dev = abs(xi - s[4])
        s[5] = _ema(s[5], slope, dt, p[1])
        s[9] = _ema(s[9], dev, dt, p[3])
        env = s[7] * math.exp(-dt / p[15])  # the peak slope envelope, fed only by clean samples below
        kind = 0
        if not warm:
            flat_for = ti - s[3]
            if flat_for >= p[8]:
                kind |= FLAT
            if flat_for >= p[9] and dev > 2.0 * s[10]:
                kind |= CLIP
            if slope > p[5] * s[8]:
                kind |= STEP
            if s[5] > p[4] * s[6]:
                kind |= BURST
            if s[9] > p[6] * s[10] or (drift and ti - s[23] >= p[19]):
                kind |= SWING
            if s[9] < p[7] * s[10]:
                kind |= DROPOUT
        long_bad = not math.isnan(s[16]) and ti - s[16] > p[12]
        s[7] = max(slope, env) if kind == 0 or warm or long_bad else env
        if kind == 0 or warm or long_bad:  # learn the references from clean samples
            tl = p[2] if not warm else min(p[2], p[11] / 3.0)
            s[6] = _ema(s[6], slope, dt, tl) if s[6] > 0.0 else slope
            s[8] = _ema(s[8], s[7], dt, tl) if s[8] > 0.0 else s[7]
            s[10] = _ema(s[10], dev, dt, tl) if s[10] > 0.0 else dev
            if r < p[21] or warm or long_bad:  # nor from the start of a swing
                mv = abs(xi - s[21])
                s[22] = _ema(s[22], mv, dt, tl) if s[22] > 0.0 else mv
        if kind != 0:
            if math.isnan(s[16]):
                s[16] = ti
            if math.isnan(s[11]):
                s[11] = min(ti, s[3]) if kind & (FLAT | CLIP) else ti
                s[15] = 0.0
            s[15] = float(int(s[15]) | kind)
            s[12] = ti
        else:
            s[16] = math.nan
        if not math.isnan(s[11]) and ti - s[12] > p[10]:
            if nspan < spans.shape[0]:
                spans[nspan, 0], spans[nspan, 1], spans[nspan, 2] = s[11], s[12] + p[10], s[15]
                nspan += 1
            s[11] = math.nan
        if not math.isnan(s[11]):
            s[17] += dt  # time inside artifact spans: what the detectors skip
        target = 0.5 if warm else (0.0 if not math.isnan(s[11]) else 1.0)  # 0.5: not known yet
        s[13] = _ema(s[13], target, dt, p[13] if target < s[13] else p[14])
        m = 1.0 if warm or p[20] >= p[17] else min(max((p[17] - r) / (p[17] - p[20]), 0.0), 1.0)
        s[24] = _ema(s[24], m, dt, SOFT_FALL * p[16] if m < s[24] else p[14])
        flags[i] = kind | (IN_SPAN if not math.isnan(s[11]) else 0)
        quality[i] = s[13] * s[24]
    return nspan
