"""Means and 95% intervals over replicates: one sample, paired and unpaired (Welch).

Replicates are independent runs (different seeds), so the t interval of their mean is exact for
normal outputs and close for sums over thousands of consumers. Paired intervals use the per-seed
differences: with common random numbers the noise the two runs share cancels.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

LEVEL = 0.95


def mean_interval(x) -> tuple[float, float, float]:
    """(mean, low, high) of the 95% t interval of the mean; NaNs are dropped. With one value the
    interval is (nan, nan)."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = x.shape[0]
    if n == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if n < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return m, m - half, m + half


def paired_interval(a, b) -> tuple[float, float, float]:
    """Mean of b - a over pairs (same seed) with its 95% t interval; pairs with a NaN dropped."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return mean_interval(b - a)


def unpaired_interval(a, b) -> tuple[float, float, float]:
    """Mean of b minus mean of a with Welch's 95% interval, ignoring any pairing."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.shape[0] < 2 or b.shape[0] < 2:
        return float(b.mean() - a.mean()) if a.size and b.size else math.nan, math.nan, math.nan
    va, vb = a.var(ddof=1) / a.shape[0], b.var(ddof=1) / b.shape[0]
    d = float(b.mean() - a.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return d, d, d
    dof = (va + vb) ** 2 / (va**2 / (a.shape[0] - 1) + vb**2 / (b.shape[0] - 1))
    half = float(stats.t.ppf(0.5 + LEVEL / 2, dof) * se)
    return d, d - half, d + half
