"""numba versions of :mod:`sim.model.kernels` (imported only when they are used).

Every loop here adds integers, or repeats the NumPy reference's floating-point
operations in the same order (a running sum over axis 0 is what ``np.cumsum`` does),
without ``fastmath``: the results are the NumPy path's bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _pick_weighted_2d(weights: np.ndarray, u: np.ndarray) -> np.ndarray:  # pragma: no cover
    a, m = weights.shape
    out = np.empty(m, np.int64)
    for j in range(m):
        total = 0.0
        for i in range(a):
            total += weights[i, j]
        if total > 0:
            x = u[j] * total
            cdf = 0.0
            k = 0
            for i in range(a):
                cdf += weights[i, j]
                if x >= cdf:
                    k += 1
            out[j] = min(k, a - 1)
        else:
            out[j] = min(np.int64(u[j] * a), a - 1)
    return out


def pick_weighted(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Compiled ``decisions.pick_weighted``: same arguments, same result."""
    shape = weights.shape[1:]
    w = np.ascontiguousarray(weights, dtype=np.float64).reshape(weights.shape[0], -1)
    flat_u = np.ascontiguousarray(np.broadcast_to(u, shape), dtype=np.float64).reshape(-1)
    return _pick_weighted_2d(w, flat_u).reshape(shape)


@numba.njit(cache=True, nogil=True)
def _tally(
    fired,
    origin,
    theatre,
    weight,
    actor,
    target,
    retaliation,
    wrong,
    detected,
    correct,
    n_theatres,
    n_cells,
    n_parties,
    n_principals,
):  # pragma: no cover
    n, r = fired.shape
    by_cell = np.zeros((n_cells, r), np.int64)
    by_party = np.zeros((n_parties, r), np.int64)
    suffered = np.zeros((n_principals, r), np.int64)
    rets = np.zeros(r, np.int64)
    wrong_rets = np.zeros(r, np.int64)
    det = np.zeros(r, np.int64)
    attr = np.zeros(r, np.int64)
    for i in range(n):
        answer = retaliation[i]
        for j in range(r):
            if fired[i, j]:
                w = weight[i, j]
                by_cell[origin[i, j] * n_theatres + theatre[i, j], j] += w
                by_party[actor[i, j], j] += w
                suffered[target[i, j], j] += w
                if answer:
                    rets[j] += w
                    if wrong[i, j]:
                        wrong_rets[j] += w
                if detected[i, j]:
                    det[j] += w
                if correct[i, j]:
                    attr[j] += w
    return by_cell, by_party, suffered, rets, wrong_rets, det, attr


def tally(*args):
    """Compiled :func:`sim.model.kernels.tally_numpy`: same arguments, same results."""
    return _tally(*args)


@numba.njit(cache=True, nogil=True)
def count_at(values, cols, weights, size, r):  # pragma: no cover
    """Per-replicate sums of integer ``weights`` of ``values`` in columns ``cols``, (size, R)."""
    out = np.zeros((size, r), np.int64)
    for k in range(values.shape[0]):
        out[values[k], cols[k]] += weights[k]
    return out
