"""numba versions of :mod:`sim.model.kernels` (imported only when they are used).

Every loop here adds integers, or repeats the NumPy reference's floating-point
operations in the same order (a running sum over axis 0 is what ``np.cumsum`` does),
without ``fastmath``: the results are the NumPy path's bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading

import numba
import numpy as np
from numba.core.registry import CPUDispatcher


def _load_array_functions_without_blas() -> None:
    """Import numba's array functions (``numba.np.arraymath``) without SciPy's linear algebra.

    On import, that module checks that SciPy's BLAS can be loaded, for the ``np.dot``-like
    routines it compiles, by importing ``scipy.linalg`` (0.37-0.46 s), for routines no
    kernel here calls. numba imports the module when it refreshes its registries before
    compiling a kernel; importing it first with ``scipy.linalg`` marked as missing skips
    that import (numba then compiles those routines, were anything to use them, with its own
    loops instead of BLAS). Nothing is skipped in a process that has imported
    ``scipy.linalg`` already, or numba's module, or that runs other threads (a Dask
    worker's): one of them importing SciPy's linear algebra meanwhile would find it missing.

    Called only when a kernel is about to be compiled (:func:`_load_from_the_cache`): loading
    cached kernels does not import numba's array functions at all.
    """
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    if threading.active_count() > 1:
        return
    sys.modules["scipy.linalg"] = None  # type: ignore[assignment]  # import: ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if "scipy.linalg" in sys.modules and sys.modules["scipy.linalg"] is None:
            del sys.modules["scipy.linalg"]


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


def entry(kernel, args: tuple):
    """``kernel`` compiled for arguments of the types of ``args``, as a direct call.

    Numba's dispatcher finds the types of every argument again at each call (about
    0.07 µs an argument); the compiled day calls each kernel every day with the same
    arrays (:meth:`sim.model.model.CeasefireModel._prepare_compiled`), so it finds the
    compiled function once and calls it directly. It must then be handed arguments of the
    same types (the same arrays, and ints where ints were given): nothing checks them.
    Falls back to the dispatcher itself if numba's internals are not as expected.
    """
    key = _key(kernel, args)
    found = _entries.get(key) if key is not None else None
    if found is not None:
        return found
    try:
        signature = tuple(kernel.typeof_pyval(value) for value in args)
        kernel.compile(signature)
        found = kernel.overloads[signature].entry_point
    except (AttributeError, KeyError, TypeError):  # pragma: no cover - another numba
        return kernel
    if key is not None:
        _entries[key] = found
    return found


#: :func:`entry`'s answers, by kernel and what decides the arguments' numba types.
_entries: dict = {}

#: Argument types whose numba type is their Python type's alone (ints here are small).
_SCALARS = (bool, int, float, np.bool_, np.int64, np.float64)


def _key(kernel, args: tuple) -> tuple | None:
    """What numba's type of each argument depends on, with the kernel; None if unsure.

    An array's numba type is its dtype, dimensions, layout (C, F or any), whether it is
    read-only and whether it is aligned; a scalar's, its Python type. Finding this is ~5x
    cheaper than numba's ``typeof`` (the model builds its kernels' arguments again after
    each compaction: ~400 arguments).
    """
    parts: list = [kernel]
    for value in args:
        kind = type(value)
        if kind is np.ndarray:
            flags = value.flags
            parts.append(
                (
                    value.dtype,
                    value.ndim,
                    flags.c_contiguous,
                    flags.f_contiguous,
                    flags.writeable,
                    flags.aligned,
                )
            )
        elif kind in _SCALARS and not (kind is int and not -(2**62) < value < 2**62):
            parts.append(kind)
        else:
            return None
    return tuple(parts)


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


@numba.njit(cache=True, nogil=True)
def _compact_columns(value, keep, drop, gone, ended, out):  # pragma: no cover
    """Columns ``drop`` of ``value`` to columns ``gone`` of ``ended``, ``keep`` to ``out``."""
    for i in range(value.shape[0]):
        for k in range(drop.shape[0]):
            ended[i, gone[k]] = value[i, drop[k]]
        for k in range(keep.shape[0]):
            out[i, k] = value[i, keep[k]]


@numba.njit(cache=True, nogil=True)
def _expand_columns(value, ids, full):  # pragma: no cover
    """Column ``k`` of ``value`` to column ``ids[k]`` of ``full``."""
    for i in range(value.shape[0]):
        for k in range(ids.shape[0]):
            full[i, ids[k]] = value[i, k]


def compact(value: np.ndarray, keep, drop, gone, ended: np.ndarray) -> np.ndarray:
    """``CeasefireModel._compact`` of one array, C-contiguous, as is ``ended``.

    Writes ``value[..., drop]`` to ``ended[..., gone]``; returns ``value[..., keep]``
    (NumPy's ``take`` and fancy assignment cost ~30 µs an array of a 1,000-truce acts
    table, mostly their own overhead; this, ~3 µs).
    """
    out = np.empty((*value.shape[:-1], keep.shape[0]), value.dtype)
    _compact_columns(
        value.reshape(-1, value.shape[-1]),
        keep,
        drop,
        gone,
        ended.reshape(-1, ended.shape[-1]),
        out.reshape(-1, keep.shape[0]),
    )
    return out


def expand(value: np.ndarray, ids, full: np.ndarray) -> None:
    """``full[..., ids] = value``, both C-contiguous (``CeasefireModel._expand``)."""
    _expand_columns(value.reshape(-1, value.shape[-1]), ids, full.reshape(-1, full.shape[-1]))


# ---------------------------------------------------------------- whole phases of the day
#
# Each kernel below is one phase of ``CeasefireModel``'s day as a loop over the truces
# (one pass, no temporaries), reading the same arrays and writing the same state as the
# NumPy method it replaces, with the same floating-point operations in the same order.
# Powers and exponentials, which NumPy computes with its own SIMD routines (they may
# differ from the C library's in the last bit), are not computed here: the model hands in
# tables computed by NumPy (``(1 - trust_loss) ** k`` for small integers k) or computes
# them with NumPy between two kernels.


@numba.njit(cache=True, nogil=True)
def tally_day(
    day,
    w,
    n_fired,
    fired_rows,
    fired_cols,
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
    priority,
    actor_table,
    alive,
    theatre_alive,
    n_origins,
    n_parties,
    n_principals,
    threshold,
    access_threshold,
    calm_days,
    origin_total,
    party_total,
    retaliations,
    wrong_retaliations,
    detected_total,
    attributed,
    first_violator,
    first_violation_day,
    high_window,
    origin_window,
    access_days,
    calm_streak,
    theatre_violence,
    violence,
    calm_today,
    calm,
    suffered,
):  # pragma: no cover
    """``CeasefireModel._tally`` in two passes, every array written in place.

    The acts that fired (the first ``n_fired`` of ``fired_rows``, ``fired_cols``, in the
    order of the table's rows, then columns, with their fields ``origin`` … ``priority``
    listed alike: :func:`observe_day`), then each truce's sums. ``actor_table`` is the
    acts' ``actor`` (row 0 is read for a first violation of priority 0). The priorities
    are read only for a truce's first violation (``first_violation_day`` < 0; the compiled
    day lists them there alone).
    ``theatre_violence``, ``violence``, ``calm_today``, ``calm_streak``, ``calm`` and
    ``suffered`` are today's (the NumPy method binds new arrays to them).
    """
    n, r = fired.shape
    n_t = theatre_alive.shape[0]
    by_cell = origin_window[w]
    by_cell[:] = 0
    suffered[:] = 0
    theatre_violence[:] = 0
    any_fired = np.zeros(r, np.bool_)
    best = np.zeros(r)
    best_row = np.zeros(r, np.int64)
    for q in range(n_fired):
        i, j = fired_rows[q], fired_cols[q]
        answer = retaliation[i]
        x = weight[q]
        by_cell[origin[q], theatre[q], j] += x
        party_total[actor[q], j] += x
        suffered[target[q], j] += x
        if answer:
            retaliations[j] += x
            if wrong[q]:
                wrong_retaliations[j] += x
        if detected[q]:
            detected_total[j] += x
        if correct[q]:
            attributed[j] += x
        if not any_fired[j]:
            any_fired[j] = True
            best[j] = priority[q]  # np.argmax: the first of the largest
            best_row[j] = i
        elif priority[q] > best[j]:
            best[j] = priority[q]
            best_row[j] = i
    for j in range(r):
        if any_fired[j] and first_violation_day[j] < 0:
            # Every fired act of priority 0: argmax of a column of zeros is row 0.
            first_violator[j] = actor_table[best_row[j] if best[j] > 0.0 else 0, j]
            first_violation_day[j] = day
    # Each truce's sums, every truce at once (the truces innermost; integers but calm).
    by_origin = np.empty(r, np.int64)
    all_calm = np.empty(r, np.bool_)
    for j in range(r):
        violence[j] = 0
        all_calm[j] = True
    for o in range(n_origins):
        for j in range(r):
            by_origin[j] = 0
        for t in range(n_t):
            cell = by_cell[o, t]
            here = theatre_violence[t]
            for j in range(r):
                by_origin[j] += cell[j]
                here[j] += cell[j]
        total_o = origin_total[o]
        for j in range(r):
            total_o[j] += by_origin[j]
            violence[j] += by_origin[j]
    for t in range(n_t):
        here = theatre_violence[t]
        high = high_window[w, t]
        quiet_t = calm_today[t]
        streak = calm_streak[t]
        calm_t = calm[t]
        open_t = theatre_alive[t]
        for j in range(r):
            v = here[j]
            high[j] = v >= threshold
            quiet = (v <= access_threshold) & open_t[j] & alive[j]
            quiet_t[j] = quiet
            all_calm[j] = all_calm[j] & quiet
            s = streak[j] + 1 if quiet else 0
            streak[j] = s
            calm_t[j] = min(1.0, s / calm_days)
    for j in range(r):
        if all_calm[j]:
            access_days[j] += 1


@numba.njit(cache=True, nogil=True)
def _weighted_trust(trust, strength, edge_ptr, edge_list, adv_list, i, j):  # pragma: no cover
    """``model.weighted_trust(i)`` of truce ``j`` (``decisions.weighted_mean``'s arithmetic)."""
    a, b = edge_ptr[i], edge_ptr[i + 1]
    if b - a == 1:
        v = trust[edge_list[a], j]
        x = strength[adv_list[a], j]
        return v * x / x if x > 0 else v
    total = strength[adv_list[a], j]
    plain = trust[edge_list[a], j]
    weighted = trust[edge_list[a], j] * strength[adv_list[a], j]
    for k in range(a + 1, b):
        total += strength[adv_list[k], j]
        plain += trust[edge_list[k], j]
        weighted += trust[edge_list[k], j] * strength[adv_list[k], j]
    plain = plain / (b - a)
    return weighted / total if total > 0 else plain


@numba.njit(cache=True, nogil=True)
def perceive_day(
    slot,
    n_fired,
    fired_rows,
    fired_cols,
    fired,
    blamed,
    weight,
    culprit,
    admitted,
    origin,
    theatre,
    wrong,
    correct,
    settled,
    edge_blamed,
    ret_start,
    ret_stop,
    contrition,
    u_contrite,
    contrite_at,
    ids,
    delay,
    pending,
    trust,
    baseline,
    grudge,
    alive,
    grievance,
    grievance_wrong,
    grievance_theatre,
    conditional,
    at_war,
    edge_ptr,
    edge_list,
    strength,
    sanction_cut,
    powers,
    forgiveness,
    decay,
    sanctions,
):  # pragma: no cover
    """``CeasefireModel._perceive`` in two passes over the day's acts, in place.

    The acts that fired are the first ``n_fired`` of ``fired_rows``, ``fired_cols``, with
    their fields ``blamed`` … ``settled`` listed alike (:func:`observe_day`).

    Writes trust, grudge and ``sanctions`` (verified acts per culprit) in place and
    returns a status: 1 if a verified act was sanctioned, 0 if not, -1 if ``powers`` is
    too short (the caller then runs the NumPy method; nothing has been written).

    ``powers[k]`` is NumPy's ``(1 - trust_loss) ** k``; ``decay`` is
    ``exp(-1 / grudge_memory)``. Truce ``j`` reads the contrition uniforms of column
    ``ids[j]`` of ``u_contrite``, one per answer in edge order from row ``contrite_at``.
    """
    n, r = fired.shape
    n_e = trust.shape[0]
    n_p = at_war.shape[0]
    counts = np.zeros((n_e, r), np.int64)
    later = np.zeros((n_e, r) if delay else (0, 0), np.int64)
    n_pow = powers.shape[0]
    sanctions[:] = 0.0
    any_verified = False
    hit_edge = np.empty(n_fired, np.int64)
    hit_truce = np.empty(n_fired, np.int64)
    n_hits = 0
    # First pass: what each fired act is perceived as (written nowhere but the counts).
    for q in range(n_fired):
        i, j = fired_rows[q], fired_cols[q]
        answer = ret_start <= i < ret_stop
        b = blamed[q]
        c = correct[q]
        if c and culprit[q] >= 0:
            sanctions[culprit[q], j] += 1.0
            any_verified = True
        if b < 0:
            continue
        mis = edge_blamed[b] != culprit[q]
        now = mis and (admitted[q] or (c and delay == 0))
        if mis and c and not now and not settled[q]:
            later[b, j] += weight[q]
        if now or settled[q]:
            continue
        if answer and contrition > 0:
            if not wrong[q] and u_contrite[contrite_at + i - ret_start, ids[j]] < contrition:
                continue
        if counts[b, j] == 0:  # the edges and truces with a perceived violation, listed
            hit_edge[n_hits] = b
            hit_truce[n_hits] = j
            n_hits += 1
        counts[b, j] += weight[q]
        if counts[b, j] >= n_pow:  # beyond the table of powers: nothing written yet
            return -1
    if delay:
        due_any = False
        for e in range(n_e):
            for j in range(r):
                if pending[slot, e, j] * alive[j] >= n_pow:
                    return -1
                if pending[slot, e, j] * alive[j] != 0:
                    due_any = True
        if due_any:
            for e in range(n_e):
                for j in range(r):
                    due = pending[slot, e, j] * alive[j]
                    t = trust[e, j]
                    ceiling = max(baseline[e, j], t)
                    factor = powers[due]
                    restored = t / factor if factor > 0 else ceiling
                    trust[e, j] = min(restored, ceiling)
                    grievance_wrong[e, j] = grievance_wrong[e, j] & (due == 0)
                    grudge[e, j] = max(grudge[e, j] - due, 0.0)
        pending[slot] = later
    # Trust lost to perceived violations (a lookup in the table of powers) on the few edges
    # and truces that saw one (listed above), first; then forgiveness on the others and
    # every grudge, every truce at once, in loops without lookups (so that they may be
    # vectorised), which leave the first loop's cells as they are.
    for m in range(n_hits):
        e, j = hit_edge[m], hit_truce[m]
        k = counts[e, j]
        if k > 0 and alive[j]:
            trust[e, j] = min(max(trust[e, j] * powers[k], 0.0), 1.0)
    for e in range(n_e):  # every truce at once (the truces innermost)
        answered_e = fired[ret_start + e]
        trust_e = trust[e]
        grudge_e = grudge[e]
        counts_e = counts[e]
        base_e = baseline[e]
        for j in range(r):
            t = trust_e[j]
            g = grudge_e[j]
            k = counts_e[j]
            x = t + forgiveness * max(base_e[j] - t, 0.0)
            answered = 1.0 if answered_e[j] else 0.0
            trust_e[j] = min(max(x, 0.0), 1.0) if alive[j] & (k == 0) else t
            grudge_e[j] = max(g - answered, 0.0) * decay + k if alive[j] else g
    # Grievances: the latest perceived violation on each edge (acts in row order, as
    # NumPy's assignment through ``np.nonzero`` leaves them: the last one written wins).
    for q in range(n_fired):
        i, j = fired_rows[q], fired_cols[q]
        answer = ret_start <= i < ret_stop
        b = blamed[q]
        if b < 0:
            continue
        mis = edge_blamed[b] != culprit[q]
        now = mis and (admitted[q] or (correct[q] and delay == 0))
        if now or settled[q]:
            continue
        if answer and contrition > 0:
            if not wrong[q] and u_contrite[contrite_at + i - ret_start, ids[j]] < contrition:
                continue
        grievance[b, j] = origin[q]
        grievance_wrong[b, j] = mis
        grievance_theatre[b, j] = theatre[q]
    for i in range(n_p):
        for j in range(r):
            if conditional[i, j] and alive[j]:
                hurt = 0
                for k in range(edge_ptr[i], edge_ptr[i + 1]):
                    hurt += counts[edge_list[k], j]
                if hurt > 0:
                    at_war[i, j] = True
    if any_verified:
        for i in range(n_p):
            for j in range(r):
                s = strength[i, j] - sanction_cut[i, j] * sanctions[i, j]
                strength[i, j] = min(max(s, 0.0), 1.0)
    return 1 if any_verified else 0


@numba.njit(cache=True, nogil=True)
def _weighted_mean_column(values, weights, j):  # pragma: no cover
    """``decisions.weighted_mean(values, weights)`` of column ``j``."""
    n = values.shape[0]
    if n == 1:
        v = values[0, j]
        x = weights[0, j]
        return v * x / x if x > 0 else v
    total = weights[0, j]
    plain = values[0, j]
    weighted = values[0, j] * weights[0, j]
    for k in range(1, n):
        total += weights[k, j]
        plain += values[k, j]
        weighted += values[k, j] * weights[k, j]
    plain = plain / n
    return weighted / total if total > 0 else plain


@numba.njit(cache=True, nogil=True)
def _first_largest(counts, j):  # pragma: no cover
    """``np.argmax(counts[:, j])``: the first of the largest."""
    best = counts[0, j]
    k = 0
    for o in range(1, counts.shape[0]):
        if counts[o, j] > best:
            best = counts[o, j]
            k = o
    return k


@numba.njit(cache=True, nogil=True)
def collapse_day(
    day,
    alive,
    theatre_alive,
    high_window,
    days_above,
    theatre_violence,
    intensity,
    origin_window,
    origin_total,
    pre_origin,
    theatre_edges,
    spill_powers,
    trust,
    strength,
    fatigue,
    resolve,
    edge_ptr,
    edge_list,
    adv_list,
    withdrawal_trust,
    need,
    theatre_cause,
    theatre_trigger,
    theatre_collapse_day,
    cause,
    trigger,
    collapse_day,
    ending,
    fat,
    res,
):  # pragma: no cover
    """``CeasefireModel._collapse`` but for the escalation days, one truce at a time.

    Writes the theatres' and the truces' collapses in place, and in ``ending``, ``fat``
    and ``res`` the truces ending today (``alive`` is not yet cleared for them) and their
    strength-weighted fatigue and resolve, from which the model draws the escalation days
    (E15: :func:`escalate_begin`, NumPy's ``log1p``, :func:`escalate_end`). Returns 1
    if a truce ends today, 0 if none does, or -1 when a truce loses more theatres in a day
    than ``spill_powers`` covers (the caller then runs the NumPy rule; nothing was
    written).
    """
    n_w, n_t, r = high_window.shape
    n_o = origin_window.shape[1]
    n_e = trust.shape[0]
    n_p = edge_ptr.shape[0] - 1
    if n_t >= spill_powers.shape[0]:
        return -1
    ending[:] = False
    window = np.zeros((n_o, n_t))
    counts = np.zeros((n_o, 1), np.int64)
    # The theatres falling today, every truce at once (the truces innermost).
    falling_all = np.empty((n_t, r), np.bool_)
    intense_all = np.empty((n_t, r), np.bool_)
    any_falling_all = np.zeros(r, np.bool_)
    high = np.empty(r, np.int64)
    for t in range(n_t):
        for j in range(r):
            high[j] = 0
        for k in range(n_w):
            above = high_window[k, t]
            for j in range(r):
                high[j] += above[j]
        for j in range(r):
            intense = theatre_violence[t, j] >= intensity
            f = alive[j] & theatre_alive[t, j] & ((high[j] >= days_above) | intense)
            intense_all[t, j] = intense
            falling_all[t, j] = f
            any_falling_all[j] = any_falling_all[j] | f
    for j in range(r):
        if not any_falling_all[j]:
            continue
        for o in range(n_o):
            for t in range(n_t):
                x = 0
                for k in range(n_w):
                    x += origin_window[k, o, t, j]
                window[o, t] = x
        for t in range(n_t):
            if not falling_all[t, j]:
                continue
            here = 0
            for o in range(n_o):
                here += window[o, t]
            for o in range(n_o):
                if here > 0:
                    counts[o, 0] = window[o, t]
                else:
                    everywhere = 0
                    for s in range(n_t):
                        everywhere += window[o, s]
                    counts[o, 0] = everywhere
            theatre_cause[t, j] = _first_largest(counts, 0)
            theatre_trigger[t, j] = 2 if intense_all[t, j] else 0  # INTENSITY, VIOLENCE
            theatre_collapse_day[t, j] = day
            theatre_alive[t, j] = False
        # Spill-over: trust falls on every edge between the parties of a fallen theatre.
        for e in range(n_e):
            hits = 0
            for t in range(n_t):
                if theatre_edges[t, e] and falling_all[t, j]:
                    hits += 1
            trust[e, j] *= spill_powers[hits]
    # Withdrawal: a principal's weighted trust below the threshold, every truce at once.
    withdrawn = np.zeros(r, np.bool_)
    wt = np.empty(r)
    total = np.empty(r)
    plain = np.empty(r)
    for i in range(n_p):
        _weighted_trust_row(trust, strength, edge_ptr, edge_list, adv_list, i, wt, total, plain)
        for j in range(r):
            withdrawn[j] = withdrawn[j] | (wt[j] < withdrawal_trust)
    status = 0
    for j in range(r):
        if not alive[j]:
            continue
        fallen = 0
        for t in range(n_t):
            if not theatre_alive[t, j]:
                fallen += 1
        over = fallen >= need
        if not (over or withdrawn[j]):
            continue
        any_falling = any_falling_all[j]
        status = 1
        ending[j] = True
        for o in range(n_o):
            for t in range(n_t):
                x = 0
                for k in range(n_w):
                    x += origin_window[k, o, t, j]
                window[o, t] = x
        today_total = 0
        for o in range(n_o):
            x = 0
            for t in range(n_t):
                if not any_falling or falling_all[t, j]:
                    x += window[o, t]
            counts[o, 0] = x
            today_total += x
        if today_total <= 0:
            for o in range(n_o):
                counts[o, 0] = origin_total[o, j] + pre_origin[o, j]
        cause[j] = _first_largest(counts, 0)
        if over and any_falling:
            intense_fall = False
            for t in range(n_t):
                intense_fall = intense_fall or (intense_all[t, j] and falling_all[t, j])
            trigger[j] = 2 if intense_fall else 0
        else:
            trigger[j] = 1  # WITHDRAWAL
        collapse_day[j] = day
        fat[j] = _weighted_mean_column(fatigue, strength, j)
        res[j] = _weighted_mean_column(resolve, strength, j)
    return status


@numba.njit(cache=True, nogil=True)
def _clip01(x):  # pragma: no cover
    """NumPy's ``clip(x, 0, 1)`` of a finite float."""
    return min(max(x, 0.0), 1.0)


@numba.njit(cache=True, nogil=True)
def _row_of(u, at, ids, out):  # pragma: no cover
    """Row ``at`` of a stream's buffer ``u`` in the truces' order: truce ``j``'s uniform at ``j``.

    The row itself while no truce has been dropped (``ids``, ascending, is then ``0 … R-1``
    and the buffer R wide), else its columns ``ids`` copied to ``out`` (R,). A loop that
    reads its uniforms from such a row reads them in order, without an index per truce, so
    that the compiler may compute several truces in one instruction (it does not, with the
    index).
    """
    r = ids.shape[0]
    if r == u.shape[1] and (r == 0 or ids[r - 1] == r - 1):
        return u[at]
    for j in range(r):
        out[j] = u[at, ids[j]]
    return out


@numba.njit(cache=True, nogil=True)
def _fire_below(u_row, p, fired_row):  # pragma: no cover
    """Which truces' act fires today, its uniform in ``u_row`` below ``p``: into ``fired_row``.

    Every truce at once, the uniforms read in order (:func:`_row_of`); returns how many fired.
    """
    n_fired = 0
    for j in range(fired_row.shape[0]):
        f = u_row[j] < p
        fired_row[j] = f
        n_fired += f
    return n_fired


@numba.njit(cache=True, nogil=True)
def _pick_column(candidates, a, b, strength, u, j):  # pragma: no cover
    """``model.pick(candidates[a:b], u)`` of truce ``j`` (``decisions.pick_weighted``)."""
    n = b - a
    if n == 1:
        return candidates[a]
    total = 0.0
    for k in range(a, b):
        total += strength[candidates[k], j]
    if total > 0:
        x = u * total
        cdf = 0.0
        chosen = 0
        for k in range(a, b):
            cdf += strength[candidates[k], j]
            if x >= cdf:
                chosen += 1
        return candidates[a + min(chosen, n - 1)]
    return candidates[a + min(np.int64(u * n), n - 1)]


@numba.njit(cache=True, nogil=True)
def _weighted_rows(
    values, value_rows, weights, weight_rows, a, b, out, total, plain
):  # pragma: no cover
    """``decisions.weighted_mean`` of rows of ``values`` by rows of ``weights``, every truce.

    Rows ``value_rows[a:b]`` of ``values`` weighted by rows ``weight_rows[a:b]`` of
    ``weights``, into ``out`` (R,): the operations of :func:`_weighted_trust` in the same
    order for each truce, the truces innermost (so the compiler may compute several at
    once); ``total`` and ``plain`` are scratch (R,).
    """
    r = out.shape[0]
    t0 = values[value_rows[a]]
    s0 = weights[weight_rows[a]]
    if b - a == 1:
        for j in range(r):
            v = t0[j]
            x = s0[j]
            out[j] = v * x / x if x > 0 else v
        return
    for j in range(r):
        total[j] = s0[j]
        plain[j] = t0[j]
        out[j] = t0[j] * s0[j]
    for k in range(a + 1, b):
        tk = values[value_rows[k]]
        sk = weights[weight_rows[k]]
        for j in range(r):
            total[j] += sk[j]
            plain[j] += tk[j]
            out[j] += tk[j] * sk[j]
    n = b - a
    for j in range(r):
        p = plain[j] / n
        out[j] = out[j] / total[j] if total[j] > 0 else p


@numba.njit(cache=True, nogil=True)
def _weighted_trust_row(
    trust, strength, edge_ptr, edge_list, adv_list, i, out, total, plain
):  # pragma: no cover
    """:func:`_weighted_trust` of principal ``i`` in every truce, into ``out`` (R,)."""
    _weighted_rows(
        trust, edge_list, strength, adv_list, edge_ptr[i], edge_ptr[i + 1], out, total, plain
    )


@numba.njit(cache=True, nogil=True)
def decide_gains(
    day,
    index,
    slot_ptr,
    theatre_list,
    adv_ptr,
    adv_flat,
    strength,
    starts,
    resolve,
    restraint_level,
    p_detect_today,
    guarantee,
    trust,
    edge_ptr,
    edge_list,
    adv_list,
    theatre_alive,
    alive,
    at_war,
    offensive_day,
    aims,
    offensive,
    regroup_weight,
    fear_weight,
    restraint_weight,
    reputation_cost,
    sanction_weight,
    gain_sensitivity,
    arg,
):  # pragma: no cover
    """``Principal.decide`` up to the exponential (E2–E4, E2c, E19), for every principal.

    Principal ``p`` (``index[p]``) owns the slots ``slot_ptr[p]:slot_ptr[p + 1]``, one per
    theatre it fights in (``theatre_list``, ``guarantee``; ``starts[s]``, its adversaries'
    strength at the start in slot ``s``; its adversaries in slot ``s``,
    ``adv_flat[adv_ptr[s]:adv_ptr[s + 1]]``). Writes the exponents
    ``gain_sensitivity · (gain − cost)`` to ``arg``, shape (slots, R), which the model
    exponentiates with NumPy in one call; launches strategic offensives (E19) in place.
    A principal's gain reads its own ``at_war`` row alone and no act, so computing every
    principal's before any principal's acts gives the agents' order's numbers.

    Each quantity is computed for every truce at once (the truces innermost, each with
    the operations of the agents' method in their order), so that the compiler may
    compute several truces in one instruction.
    """
    n_s = theatre_list.shape[0]
    r = strength.shape[1]
    adv_now = np.empty((n_s, r))
    distrust = np.empty(r)
    total = np.empty(r)
    plain = np.empty(r)
    launching = np.empty(r, np.bool_)
    for p in range(index.shape[0]):
        i = index[p]
        a, b = slot_ptr[p], slot_ptr[p + 1]
        s_i = strength[i]
        for k in range(a, b):
            now = adv_now[k]
            for j in range(r):
                total[j] = 0.0
                plain[j] = 0.0  # the sum of squares
            for q in range(adv_ptr[k], adv_ptr[k + 1]):
                x_q = strength[adv_flat[q]]
                for j in range(r):
                    x = x_q[j]
                    total[j] += x
                    plain[j] += x * x
            for j in range(r):
                now[j] = plain[j] / total[j] if total[j] > 0 else 0.0
        if offensive[p]:  # every truce at once, without a branch
            war_i = at_war[i]
            for j in range(r):
                launching[j] = False
            for k in range(a, b):
                now = adv_now[k]
                open_k = theatre_alive[theatre_list[k]]
                for j in range(r):
                    launching[j] = launching[j] | ((s_i[j] - now[j] > aims[p]) & open_k[j])
            for j in range(r):
                go = launching[j] & (s_i[j] > 0) & alive[j] & (not war_i[j])
                war_i[j] = war_i[j] | go
                offensive_day[j] = day if go & (offensive_day[j] < 0) else offensive_day[j]
        _weighted_trust_row(
            trust, strength, edge_ptr, edge_list, adv_list, i, distrust, total, plain
        )
        for j in range(r):
            distrust[j] = 1.0 - distrust[j]
        res_i = resolve[i]
        rl_i = restraint_level[i]
        for k in range(a, b):
            now = adv_now[k]
            start = starts[k]
            pd_k = p_detect_today[theatre_list[k]]
            g = guarantee[k]
            out = arg[k]
            for j in range(r):
                regroup = max(now[j] - start[j], 0.0)
                gain = res_i[j] * (s_i[j] - now[j] + regroup_weight * regroup)
                gain = gain + fear_weight * distrust[j]
                rl = rl_i[j]
                cost = restraint_weight * rl + pd_k[j] * (reputation_cost + sanction_weight * rl)
                cost = cost + g
                out[j] = gain_sensitivity * (gain - cost)


@numba.njit(cache=True, nogil=True)
def decide_acts(
    index,
    slot_ptr,
    theatre_list,
    adv_ptr,
    adv_flat,
    growth,
    u,
    decide_at,
    ids,
    strength,
    fatigue,
    p_detect_today,
    buffer,
    at_war,
    edge_index,
    base_propensity,
    unauthorised_rate,
    war_tempo,
    deliberate_start,
    indiscipline_start,
    fired,
    actor,
    target,
    blamed,
    culprit,
    origin,
    weight,
):  # pragma: no cover
    """``Principal.decide`` from the exponential ``growth`` on, for every principal.

    Today's acts of principal ``p``, written to its rows of the acts table, row by row
    as the table lies in memory. Its uniforms (3, its theatres) start at row
    ``decide_at[p]`` of the decisions stream's buffer ``u``; truce ``j`` reads column
    ``ids[j]``. An act's fields other than ``fired`` are written where it fired alone
    (nothing reads them elsewhere: :mod:`sim.model.acts`).
    """
    r = strength.shape[1]
    scratch_act = np.empty(r)
    scratch_unauthorised = np.empty(r)
    for p in range(index.shape[0]):
        i = index[p]
        n_slots = slot_ptr[p + 1] - slot_ptr[p]
        s_i = strength[i]
        war_i = at_war[i]
        fatigue_i = fatigue[i]
        rate = unauthorised_rate[p]
        for k in range(slot_ptr[p], slot_ptr[p + 1]):
            t = k - slot_ptr[p]
            free = 1.0 - buffer[k]
            row = deliberate_start[p] + t
            low = indiscipline_start[p] + t
            u0, u1, u2 = (
                decide_at[p] + t,
                decide_at[p] + n_slots + t,
                decide_at[p] + 2 * n_slots + t,
            )
            # Which acts fire, every truce at once (no branch, the uniforms read in order);
            # then the fields of those that fired, truce by truce.
            u_act = _row_of(u, u0, ids, scratch_act)
            u_unauthorised = _row_of(u, u1, ids, scratch_unauthorised)
            growth_k = growth[k]
            pd_k = p_detect_today[theatre_list[k]]
            fired_row = fired[row]
            fired_low = fired[low]
            n_fired = 0
            for j in range(r):
                forces = s_i[j] > 0
                war = war_i[j]
                p_act = _clip01(base_propensity * growth_k[j] * (1.0 - fatigue_i[j]))
                p_unauthorised = rate * (1 - pd_k[j]) * free
                deliberate = ((u_act[j] < p_act) | war) & forces
                unauthorised = (u_unauthorised[j] < p_unauthorised) & forces & (not war)
                fired_row[j] = deliberate
                fired_low[j] = unauthorised
                n_fired += deliberate | unauthorised
            if n_fired == 0:
                continue
            for j in range(r):
                deliberate = fired_row[j]
                unauthorised = fired_low[j]
                if not (deliberate or unauthorised):
                    continue
                war = war_i[j]
                c = ids[j]
                whom = _pick_column(adv_flat, adv_ptr[k], adv_ptr[k + 1], strength, u[u2, c], j)
                edge = edge_index[whom, i]
                if deliberate:
                    actor[row, j] = i
                    target[row, j] = whom
                    blamed[row, j] = edge
                    culprit[row, j] = i
                    origin[row, j] = 0  # DELIBERATE
                    weight[row, j] = war_tempo if war else 1
                if unauthorised:
                    actor[low, j] = i
                    target[low, j] = whom
                    blamed[low, j] = edge
                    culprit[low, j] = i
                    origin[low, j] = 4  # INDISCIPLINE


@numba.njit(cache=True, nogil=True)
def retaliate_day(
    ans_start,
    edge_ptr,
    edge_list,
    adv_list,
    u,
    answer_at,
    ids,
    trust,
    grudge,
    fatigue,
    strength,
    restraint_level,
    grievance,
    grievance_wrong,
    grievance_theatre,
    damping,
    edge_index,
    threshold,
    rate,
    retaliation_restraint,
    hostility_threshold,
    generosity,
    fired,
    actor,
    target,
    blamed,
    culprit,
    origin,
    wrong,
    theatre,
):  # pragma: no cover
    """``Principal.retaliate`` (E9, E9b, E9c, E20) of every principal, in one pass.

    The principals' answer uniforms lie in edge order from row ``answer_at`` of the
    decisions stream's buffer ``u`` (truce ``j`` reads column ``ids[j]``); principal
    ``i``'s answers are rows ``ans_start[i]`` on of the acts table. Fields other than
    ``fired`` are written where the answer fired alone.
    """
    n_p = edge_ptr.shape[0] - 1
    r = trust.shape[1]
    p_all = np.empty(r)
    scratch = np.empty(r)
    hostile_on = hostility_threshold > 0
    generous = generosity > 0
    kept = 1.0 - generosity
    for i in range(n_p):
        for q in range(edge_ptr[i], edge_ptr[i + 1]):
            e = edge_list[q]
            row = ans_start[i] + q - edge_ptr[i]
            whom = adv_list[q]
            blame = edge_index[whom, i]
            # The chance of an answer in every truce at once (the truces innermost, the
            # agents' formula step by step, in one loop).
            trust_e = trust[e]
            grudge_e = grudge[e]
            rl_i = restraint_level[i]
            f_i = fatigue[i]
            if threshold <= 0:
                for j in range(r):
                    p_all[j] = 0.0
            else:
                for j in range(r):
                    p = _clip01(1.0 - trust_e[j] / threshold) * min(grudge_e[j], 1.0)
                    if hostile_on:
                        p = max(p, _clip01(1.0 - trust_e[j] / hostility_threshold))
                    level = retaliation_restraint * rl_i[j]
                    p = rate * p * (1.0 - f_i[j]) * (1.0 - level)
                    if generous:
                        p = p * kept
                    p_all[j] = _clip01(p)
            if damping.shape[0] == 1:  # one theatre: no lookup (so it may be vectorised)
                only = damping[0]
                for j in range(r):
                    p_all[j] = p_all[j] * only
            else:
                where = grievance_theatre[e]
                for j in range(r):
                    p_all[j] = p_all[j] * damping[where[j]]
            # Which answers fire, every truce at once; then the fields of those that fired.
            u_answer = _row_of(u, answer_at + q, ids, scratch)
            s_i = strength[i]
            fired_row = fired[row]
            n_fired = 0
            for j in range(r):
                f = (u_answer[j] < p_all[j]) & (s_i[j] > 0)
                fired_row[j] = f
                n_fired += f
            if n_fired == 0:
                continue
            for j in range(r):
                if fired_row[j]:
                    actor[row, j] = i
                    target[row, j] = whom
                    blamed[row, j] = blame
                    culprit[row, j] = i
                    origin[row, j] = grievance[e, j]
                    wrong[row, j] = grievance_wrong[e, j]
                    theatre[row, j] = grievance_theatre[e, j]


@numba.njit(cache=True, nogil=True)
def recover_day(
    theatre_ptr,
    theatre_list,
    edge_ptr,
    adv_list,
    calm_today,
    alive,
    suffered,
    fatigue,
    strength,
    fatigue_gain,
    fatigue_recovery,
    regroup_rate,
):  # pragma: no cover
    """Every principal's ``recover`` (E11, E12), in build order, in place.

    A principal's regrouping reads the strengths its predecessors have just updated, as
    the agents' methods called one after the other do.
    """
    n_p = edge_ptr.shape[0] - 1
    r = alive.shape[0]
    calm = np.empty(r, np.bool_)
    adversary = np.empty(r)
    total = np.empty(r)
    plain = np.empty(r)
    for i in range(n_p):  # every truce at once (the truces innermost), principal by principal
        for j in range(r):
            calm[j] = True
        for q in range(theatre_ptr[i], theatre_ptr[i + 1]):
            quiet = calm_today[theatre_list[q]]
            for j in range(r):
                calm[j] = calm[j] & quiet[j]
        # decisions.weighted_mean of the adversaries' strengths, weighted by themselves
        _weighted_rows(
            strength,
            adv_list,
            strength,
            adv_list,
            edge_ptr[i],
            edge_ptr[i + 1],
            adversary,
            total,
            plain,
        )
        f_i = fatigue[i]
        s_i = strength[i]
        hurt = suffered[i]
        for j in range(r):
            f = f_i[j]
            s = s_i[j]
            new_f = _clip01(
                f + fatigue_gain * hurt[j] - fatigue_recovery * (1.0 if calm[j] else 0.0)
            )
            regrouping = 1.0 if calm[j] & (s > 0) else 0.0
            new_s = _clip01(s + regroup_rate * max(adversary[j] - s, 0.0) * regrouping)
            f_i[j] = new_f if alive[j] else f
            s_i[j] = new_s if alive[j] else s


@numba.njit(cache=True, nogil=True)
def _pick_present(candidates, strength, present, theatre, u, j):  # pragma: no cover
    """``model.pick_in(theatre, candidates, u)`` of truce ``j``.

    ``pick_weighted`` on strength times presence: absent candidates weigh 0 but keep
    their place.
    """
    n = candidates.shape[0]
    if n == 1:
        return candidates[0]
    total = 0.0
    for k in range(n):
        total += strength[candidates[k], j] * (1.0 if present[theatre, candidates[k]] else 0.0)
    if total > 0:
        x = u * total
        cdf = 0.0
        chosen = 0
        for k in range(n):
            cdf += strength[candidates[k], j] * (1.0 if present[theatre, candidates[k]] else 0.0)
            if x >= cdf:
                chosen += 1
        return candidates[min(chosen, n - 1)]
    return candidates[min(np.int64(u * n), n - 1)]


@numba.njit(cache=True, nogil=True)
def strike_day(
    n_theatres,
    present,
    faction_index,
    strength,
    edge_index,
    party,
    backs_government,
    offscript_p,
    offscript_row,
    client_ptr,
    client_flat,
    u_dissent,
    dissent_at,
    loop_ptr,
    loop_start,
    loop_at,
    loop_p,
    loop_target,
    loop_blamed,
    u_loop,
    ground_start,
    ground_p,
    ground_target,
    ground_blamed,
    ground_at,
    u_ground,
    ids,
    fired,
    actor,
    target,
    blamed,
    origin,
    theatre,
):  # pragma: no cover
    """The strike phase into the acts table: ground offensives, loopholes, dissent.

    The government's ground offensives (E22), then every sponsor's loophole strikes (E6)
    and off-script strikes from dissent. Uniforms are read from the streams' buffers,
    column ``ids[j]`` for truce ``j``: sponsor ``s``'s dissent (3) from row
    ``dissent_at[s]`` of ``u_dissent``, its loopholes from row ``loop_at[s]`` of
    ``u_loop`` (-1: not drawn, they cannot fire), the ground offensives from row
    ``ground_at`` of ``u_ground`` (-1: none to read). Fields other than ``fired`` are
    written where the act fired alone.
    """
    r = strength.shape[1]
    n_ground = ground_p.shape[0]
    scratch = np.empty(r)
    # Each row: which acts fire, every truce at once (the uniforms read in order, no
    # branch); then the fields of those that fired.
    if ground_at >= 0:
        s_0 = strength[0]
        for q in range(n_ground):
            row = ground_start + q
            u_row = _row_of(u_ground, ground_at + q, ids, scratch)
            p_q = ground_p[q]
            fired_row = fired[row]
            n_fired = 0
            for j in range(r):
                f = (u_row[j] < p_q) & (s_0[j] > 0)
                fired_row[j] = f
                n_fired += f
            if n_fired == 0:
                continue
            for j in range(r):
                if fired_row[j]:
                    actor[row, j] = 0
                    target[row, j] = ground_target[q]
                    blamed[row, j] = ground_blamed[q]
                    origin[row, j] = 1  # LOOPHOLE
    for s in range(party.shape[0]):
        if loop_at[s] >= 0:
            for q in range(loop_ptr[s], loop_ptr[s + 1]):
                row = loop_start[s] + q - loop_ptr[s]
                u_row = _row_of(u_loop, loop_at[s] + q - loop_ptr[s], ids, scratch)
                p_q = loop_p[q]
                fired_row = fired[row]
                if _fire_below(u_row, p_q, fired_row) == 0:
                    continue
                for j in range(r):
                    if fired_row[j]:
                        actor[row, j] = party[s]
                        target[row, j] = loop_target[q]
                        blamed[row, j] = loop_blamed[q]
                        origin[row, j] = 1  # LOOPHOLE
        row = offscript_row[s]
        n_clients = client_ptr[s + 1] - client_ptr[s]
        at = dissent_at[s]
        u_row = _row_of(u_dissent, at, ids, scratch)
        p_s = offscript_p[s]
        fired_row = fired[row]
        if _fire_below(u_row, p_s, fired_row) == 0:
            continue
        for j in range(r):
            if not fired_row[j]:
                continue
            c = ids[j]
            u1, u2 = u_dissent[at + 1, c], u_dissent[at + 2, c]
            t = 0 if n_theatres == 1 else min(np.int64(u2 * n_theatres), n_theatres - 1)
            if backs_government[s]:
                whom = _pick_present(faction_index, strength, present, t, u1, j)
                client = 0
            else:
                whom = 0
                k = min(np.int64(u1 * n_clients), n_clients - 1)
                client = client_flat[client_ptr[s] + k]
            actor[row, j] = party[s]
            target[row, j] = whom
            blamed[row, j] = edge_index[whom, client]
            origin[row, j] = 4  # INDISCIPLINE
            theatre[row, j] = t


@numba.njit(cache=True, nogil=True)
def _misblame(
    whom_target,
    t,
    u_blame,
    u_whom,
    n_factions,
    blame_base,
    present,
    strength,
    edge_index,
    blame_bias,
    j,
):  # pragma: no cover
    """``model.misblame`` of one act of truce ``j``: the edge its victim blames, or -1."""
    if n_factions == 1:
        whom = 1 if whom_target == 0 else 0
    else:
        total = 0.0
        for k in range(n_factions):
            x = blame_base[k] * strength[1 + k, j]
            total += x * (1.0 if present[t, 1 + k] else 0.0)
        if total > 0:
            x = u_whom * total
            cdf = 0.0
            chosen = 0
            for k in range(n_factions):
                w = blame_base[k] * strength[1 + k, j]
                cdf += w * (1.0 if present[t, 1 + k] else 0.0)
                if x >= cdf:
                    chosen += 1
            chosen = min(chosen, n_factions - 1)
        else:
            chosen = min(np.int64(u_whom * n_factions), n_factions - 1)
        whom = 1 + chosen if whom_target == 0 else 0
    edge = edge_index[whom_target, whom]
    return edge if u_blame < blame_bias else -1


@numba.njit(cache=True, nogil=True)
def accident_day(
    row,
    u,
    at,
    ids,
    n_theatres,
    principal_all,
    present,
    strength,
    p_accident,
    buffer,
    air_force_party,
    level,
    n_factions,
    blame_base,
    edge_index,
    blame_bias,
    fired,
    actor,
    target,
    theatre,
    blamed,
    origin,
    admitted,
):  # pragma: no cover
    """``ForeignForces.accident`` (E7): one incident a day at most, blamed unless owned up.

    Its 7 uniforms start at row ``at`` of the accidents stream's buffer ``u``; truce ``j``
    reads column ``ids[j]``. Fields other than ``fired`` are written where it fired alone.
    """
    r = strength.shape[1]
    n_air = air_force_party.shape[0]
    # Whether the incident happens, every truce at once (the uniforms read in order); then
    # the fields of those that happened.
    u_fire = _row_of(u, at, ids, np.empty(r))
    fired_row = fired[row]
    if n_theatres == 1:
        n_fired = _fire_below(u_fire, p_accident * (1.0 - buffer[0]), fired_row)
    else:
        n_fired = 0
        u_where = _row_of(u, at + 6, ids, np.empty(r))
        for j in range(r):
            t = min(np.int64(u_where[j] * n_theatres), n_theatres - 1)
            f = u_fire[j] < p_accident * (1.0 - buffer[t])
            fired_row[j] = f
            n_fired += f
    if n_fired == 0:
        return
    for j in range(r):
        if not fired_row[j]:
            continue
        c = ids[j]
        u6 = u[at + 6, c]
        t = 0 if n_theatres == 1 else min(np.int64(u6 * n_theatres), n_theatres - 1)
        whom = _pick_present(principal_all, strength, present, t, u[at + 1, c], j)
        if n_air:
            actor[row, j] = air_force_party[min(np.int64(u[at + 2, c] * n_air), n_air - 1)]
        target[row, j] = whom
        theatre[row, j] = t
        blamed[row, j] = _misblame(
            whom,
            t,
            u[at + 3, c],
            u[at + 4, c],
            n_factions,
            blame_base,
            present,
            strength,
            edge_index,
            blame_bias,
            j,
        )
        origin[row, j] = 2  # ACCIDENT
        admitted[row, j] = u[at + 5, c] < level


@numba.njit(cache=True, nogil=True)
def attack_day(
    row,
    u,
    at,
    ids,
    theatres,
    reach_ptr,
    reach_flat,
    inside,
    host,
    party,
    base_p,
    factor,
    total_kind,
    calm_boost,
    greedy,
    calm,
    coverage,
    mission_present,
    withdrawn,
    detection,
    n_factions,
    blame_base,
    present,
    strength,
    edge_index,
    blame_bias,
    fired,
    actor,
    target,
    blamed,
    culprit,
    origin,
):  # pragma: no cover
    """``ExcludedGroup.attack`` (E8, E8b) of one group, in each theatre it is in.

    ``base_p`` is ``spoiler_rate · strength · intent``, ``factor`` the share of the
    inducement that does not reach a greedy or limited spoiler; a greedy one weighs
    today's chance of detection (``decisions.spoiler_probability``; the mission is active
    where ``mission_present`` and not ``withdrawn``). Its uniforms (4, its theatres) start
    at row ``at`` of the spoilers stream's buffer ``u``; truce ``j`` reads column
    ``ids[j]``. Fields other than ``fired`` are written where the attack fired alone.
    """
    r = strength.shape[1]
    n_k = theatres.shape[0]
    scratch = np.empty(r)
    for k in range(n_k):
        t = theatres[k]
        a, b = reach_ptr[k], reach_ptr[k + 1]
        # Which attacks fire, every truce at once (the uniforms read in order, the kind's
        # condition outside the loops); then the fields of those that fired.
        u_row = _row_of(u, at + k, ids, scratch)
        fired_row = fired[row + k]
        n_fired = 0
        if total_kind:
            calm_t = calm[t]
            for j in range(r):
                f = u_row[j] < _clip01(base_p * (1.0 + calm_boost * calm_t[j]))
                fired_row[j] = f
                n_fired += f
        elif greedy:
            cover = coverage[t]
            for j in range(r):
                active = mission_present & (not withdrawn[j])
                p_detect = cover * (1.0 if active else 0.0) * detection
                f = u_row[j] < _clip01(base_p * (factor * (1.0 - p_detect)))
                fired_row[j] = f
                n_fired += f
        else:
            n_fired = _fire_below(u_row, _clip01(base_p * factor), fired_row)
        if n_fired == 0:
            continue
        for j in range(r):
            if not fired_row[j]:
                continue
            c = ids[j]
            whom = _pick_column(reach_flat, a, b, strength, u[at + n_k + k, c], j)
            actor[row + k, j] = party
            target[row + k, j] = whom
            if inside[k]:
                blamed[row + k, j] = edge_index[whom, host]
                culprit[row + k, j] = host
            else:
                blamed[row + k, j] = _misblame(
                    whom,
                    t,
                    u[at + 2 * n_k + k, c],
                    u[at + 3 * n_k + k, c],
                    n_factions,
                    blame_base,
                    present,
                    strength,
                    edge_index,
                    blame_bias,
                    j,
                )
                culprit[row + k, j] = -1
            origin[row + k, j] = 3  # SPOILER


# ---------------------------------------------------------------- the rest of the day
#
# What the agents' and the model's NumPy phases do between and after the kernels above,
# so that a compiled day makes no NumPy call of its own but the draws and one exponential.


@numba.njit(cache=True, nogil=True)
def deter_day(coverage, mission_present, withdrawn, detection, p_detect):  # pragma: no cover
    """``MonitorMission.deter``: today's chance of detection, shape (T, R), in place."""
    n_t, r = p_detect.shape
    for t in range(n_t):
        for j in range(r):
            active = 1.0 if mission_present & (not withdrawn[j]) else 0.0
            p_detect[t, j] = coverage[t] * active * detection


@numba.njit(cache=True, nogil=True)
def observe_day(
    day,
    fired,
    theatre,
    origin,
    alive,
    theatre_alive,
    mission_present,
    coverage,
    detection,
    attribution,
    exposure,
    risk_tolerance,
    withdrawn,
    attacks,
    withdrawal_day,
    u_monitoring,
    monitoring_at,
    commission,
    u_commission,
    settle_at,
    ids,
    weight,
    actor,
    target,
    blamed,
    culprit,
    wrong,
    admitted,
    priority,
    first_violation_day,
    fired_rows,
    fired_cols,
    l_origin,
    l_theatre,
    l_weight,
    l_actor,
    l_target,
    l_blamed,
    l_culprit,
    l_wrong,
    l_admitted,
    l_priority,
    l_detected,
    l_correct,
    l_settled,
):  # pragma: no cover
    """The mask, ``MonitorMission.observe`` and ``JointCommissions.observe``, in place.

    Nothing fires in a truce or theatre that has ended (``CeasefireModel._mask``); the
    mission detects, attributes and counts the attacks on it (its three uniforms per row
    of the acts table from row ``monitoring_at`` of ``u_monitoring``), and withdraws; the
    commissions settle incidents (one uniform per row from row ``settle_at`` of
    ``u_commission``; -1: no commission). Truce ``j`` reads column ``ids[j]``.

    Returns how many acts fired, listed in ``fired_rows`` and ``fired_cols`` in the
    order of the table's rows, then columns (NumPy's ``np.nonzero(fired)``): the
    perception and the tally read those acts alone. Each listed act's fields (``origin``
    … ``priority``, the first violator's priority) are copied to the ``l_`` arrays in the
    list's order, with what the mission and the commissions made of it (``l_detected``,
    ``l_correct``, ``l_settled``: the model's tables of the acts' shape are written only
    if the NumPy perception must run). The priority is copied only in a truce with no
    violation yet (``first_violation_day`` < 0), the only one whose tally reads it; 0.0
    is listed elsewhere. An act's fields lie in ten tables of the acts'
    shape, so reading them where an act fired costs a cache miss each on a wide chunk:
    they are read here once, and the kernels that follow read the lists.
    """
    n, r = fired.shape
    # First the acts that were set to fire, listed: ``fired`` scanned eight cells at a time
    # (few acts fire). Then, for each, the mask and the fields, the list rewritten in place.
    cells = fired.reshape(n * r)
    whole = n * r - n * r % 8
    words = cells[:whole].view(np.uint64)
    n_set = 0
    for w in range(words.shape[0]):
        if words[w] != 0:
            for k in range(8 * w, 8 * w + 8):
                if cells[k]:
                    fired_cols[n_set] = k
                    n_set += 1
    for k in range(whole, n * r):
        if cells[k]:
            fired_cols[n_set] = k
            n_set += 1
    n_fired = 0
    for p in range(n_set):
        k = fired_cols[p]
        i = k // r
        j = k - i * r
        t = theatre[i, j]
        if not (alive[j] and theatre_alive[t, j]):
            fired[i, j] = False
            continue
        d = False
        ok = False
        s = False
        c = ids[j]
        if mission_present and not withdrawn[j]:
            cover = coverage[t]
            d = u_monitoring[monitoring_at + i, c] < cover * detection
            ok = d and u_monitoring[monitoring_at + n + i, c] < attribution
            if origin[i, j] != 2:  # ACCIDENT: not hostile
                if u_monitoring[monitoring_at + 2 * n + i, c] < exposure * cover:
                    attacks[j] += 1
        if settle_at >= 0:
            s = u_commission[settle_at + i, c] < commission[t]
        q = n_fired  # never ahead of the act read (p)
        n_fired += 1
        fired_rows[q] = i
        fired_cols[q] = j
        l_origin[q] = origin[i, j]
        l_theatre[q] = t
        l_weight[q] = weight[i, j]
        l_actor[q] = actor[i, j]
        l_target[q] = target[i, j]
        l_blamed[q] = blamed[i, j]
        l_culprit[q] = culprit[i, j]
        l_wrong[q] = wrong[i, j]
        l_admitted[q] = admitted[i, j]
        # Only the tally of a truce's first violation reads the priority (0.0 elsewhere).
        l_priority[q] = priority[i, j] if first_violation_day[j] < 0 else 0.0
        l_detected[q] = d
        l_correct[q] = ok
        l_settled[q] = s
    if mission_present:
        for j in range(r):
            if not withdrawn[j] and attacks[j] > risk_tolerance:
                withdrawn[j] = True
                withdrawal_day[j] = day
    return n_fired


@numba.njit(cache=True, nogil=True)
def consolidate_day(calm_today, alive, rate, baseline):  # pragma: no cover
    """``CeasefireModel._consolidate`` (E10b) in place (``decisions.consolidate``)."""
    n_t, r = calm_today.shape
    x = np.empty(r)
    for j in range(r):
        calm = alive[j]
        for t in range(n_t):
            calm = calm & calm_today[t, j]
        x[j] = rate * (1.0 if calm else 0.0)
    for e in range(baseline.shape[0]):  # every truce at once (the truces innermost)
        base_e = baseline[e]
        for j in range(r):
            b = base_e[j]
            base_e[j] = min(max(b + x[j] * (1.0 - b), 0.0), 1.0)


@numba.njit(cache=True, nogil=True)
def daily_day(
    day, w, origin_window, violence, sums, alive, count, trust, mean, holding
):  # pragma: no cover
    """``CeasefireModel._add_daily`` but the trust's dot product; returns the truces holding.

    Writes the day's integer sums and count, and in ``mean`` each truce's mean trust
    over the edges (``trust.mean(0)``'s arithmetic: a running sum down the rows, then a
    division), whose dot product with ``alive`` the model takes with NumPy (BLAS's
    order of summation), and in ``holding`` ``alive`` as floats (that product's operand:
    NumPy would convert it).
    """
    n_o, n_t, r = origin_window.shape[1:]
    row = day - 1
    n_e = trust.shape[0]
    for j in range(r):
        mean[j] = trust[0, j]
    for e in range(1, n_e):
        for j in range(r):
            mean[j] += trust[e, j]
    for j in range(r):
        mean[j] /= n_e
    by_origin = np.empty(r, np.int64)
    for o in range(n_o):  # integer sums, the truces innermost (so they may be vectorised)
        for j in range(r):
            by_origin[j] = 0
        for t in range(n_t):
            cell = origin_window[w, o, t]
            for j in range(r):
                by_origin[j] += cell[j]
        total = 0
        squares = 0
        for j in range(r):
            x = by_origin[j]
            total += x
            squares += x * x
        sums[row, 0, o] = total
        sums[row, 1, o] = squares
    total = 0
    squares = 0
    live = 0
    for j in range(r):
        x = violence[j]
        total += x
        squares += x * x
        live += alive[j]
        holding[j] = 1.0 if alive[j] else 0.0
    sums[row, 0, n_o] = total
    sums[row, 1, n_o] = squares
    count[row, 0] = live
    return live


@numba.njit(cache=True, nogil=True)
def escalate_begin(ending, fat, res, escalation_u, rate, ends, neg_u, neg_p):  # pragma: no cover
    """The first half of ``CeasefireModel._escalate`` (E15), for the truces ``ending``.

    Lists them in ``ends`` and writes, for each, ``-u`` in ``neg_u`` and ``-p`` in
    ``neg_p`` (``decisions.escalation_days``'s chance, clipped as there), whose ``log1p``
    the model takes with NumPy (its SIMD routine may differ from the C library's in the
    last bit); returns how many truces end.
    """
    n = 0
    for j in range(ending.shape[0]):
        if ending[j]:
            p = rate * (1.0 - fat[j]) * (0.5 + res[j])
            ends[n] = j
            neg_u[n] = -escalation_u[j]
            neg_p[n] = -min(max(p, 1e-6), 1.0 - 1e-9)
            n += 1
    return n


@numba.njit(cache=True, nogil=True)
def escalate_end(n, ends, log_u, log_p, escalation, alive):  # pragma: no cover
    """The second half of ``CeasefireModel._escalate``: the days, and the truces ended.

    ``max(1, ceil(log1p(-u) / log1p(-p)))`` as ``decisions.escalation_days`` computes it
    (a division and a ceiling, exact in both), for the ``n`` truces listed in ``ends``.
    """
    for i in range(n):
        j = ends[i]
        days = np.ceil(log_u[i] / log_p[i])
        escalation[j] = np.int64(days) if days > 1.0 else 1
        alive[j] = False


#: Set (``active``) in a thread while one of the kernels loads from numba's cache: numba's
#: code libraries it reads then wait to parse their LLVM bitcode (:func:`_read_lazily`).
_loading = threading.local()


def _load_from_the_cache(kernel) -> None:
    """Make ``kernel`` load its cached machine code without numba's compiler registries.

    Before loading a function from its on-disk cache, numba refreshes its compiler's
    registries (``BaseContext.refresh``): it imports some thirty modules of typing and
    lowering rules (numba's array functions, typed containers, random numbers, linear
    algebra...) and installs them, for rules only a compilation reads: a fresh process's
    load of the compiled day took 0.1-0.2 s of CPU less without them (median 0.21 s less, 14
    alternated pairs, ``benchmarks/README.md``, "Session 14"). Running cached machine code
    needs only numba's runtime (``rtsys.initialize``: the memory management the kernels'
    arrays use), which is all this loader initialises; a compilation (a kernel not in the
    cache: the first run on a machine, or new argument types) refreshes the registries
    itself (``numba.core.compiler.CompilerBase``). The code libraries read meanwhile do
    not parse their LLVM bitcode either (:func:`_read_lazily`). Nothing is changed if
    numba's cache is not as expected (another version): numba's own load is kept.
    """
    from numba.core.runtime import rtsys

    cache = getattr(kernel, "_cache", None)
    load = getattr(cache, "_load_overload", None)
    guard = getattr(cache, "_guard_against_spurious_io_errors", None)
    if cache is None or load is None or guard is None:
        return  # pragma: no cover - another numba

    def load_overload(sig, target_context):
        rtsys.initialize(target_context)
        found = None
        _loading.active = True
        try:
            with guard():  # an unreadable cache file is a miss, as in numba's own load
                found = load(sig, target_context)
        finally:
            _loading.active = False
        if found is None:  # numba compiles it next: its array functions without BLAS
            _load_array_functions_without_blas()
        return found

    cache.load_overload = load_overload


# ------------------------------------------------------ code libraries read without their IR
#: Where the names each cached library defines are kept, beside numba's cache of the kernels.
SYMBOLS = "truce-symbols"


def _read_lazily() -> bool:
    """Let the kernels' cached code libraries load without parsing their LLVM bitcode.

    numba caches a function as its machine code and, for linking it into a later
    compilation, its LLVM module as bitcode. Loading it parses that bitcode and lists the
    names it defines (``JitEngine._load_defined_symbols``): numba looks a symbol up only
    where it is listed, as the execution engine would end the process over one it lacks.
    That parse and that list were ~40% of the load of the compiled day (0.10-0.15 s of
    0.24-0.35 s, ``benchmarks/README.md``, "Session 16"), though the machine code is all
    that runs.

    So a library one of the kernels loads (:func:`_load_from_the_cache`) takes the names it
    defines from a small file beside numba's cache (:data:`SYMBOLS`, named by the bitcode's
    hash, written the first time that bitcode was parsed here), and keeps its bitcode unread
    until a compilation links it (``_get_module_for_linking``). The execution engine lists
    the same names either way. Nothing is changed where numba's code library is not as
    this numba's (another version), or for a library no kernel loads.

    Returns:
        Whether numba's code library was patched.
    """
    import llvmlite.binding as ll
    from numba.core import codegen

    library = codegen.CPUCodeLibrary
    unserialize = library.__dict__.get("_unserialize")
    linking = library.__dict__.get("_get_module_for_linking")
    used = ("enable_object_caching", "_set_compiled_object", "_finalize_final_module")
    if (
        not isinstance(unserialize, classmethod)
        or linking is None
        or not all(hasattr(library, name) for name in used)
    ):
        return False  # pragma: no cover - another numba
    numbas = unserialize.__func__

    def _unserialize(cls, codegen_, state):
        name, kind, data = state
        defined = getattr(getattr(codegen_, "_engine", None), "_defined_symbols", None)
        if (
            kind != "object"
            or not getattr(_loading, "active", False)
            or not isinstance(defined, set)
        ):
            return numbas(cls, codegen_, state)
        object_code, bitcode = data
        key = hashlib.sha256(bitcode).hexdigest()
        names = _defined_names(key)
        if names is None:  # numba's own load, then its names kept for the next process
            self = numbas(cls, codegen_, state)
            module = getattr(self, "_shared_module", None)
            if module is not None:
                _keep_names(key, _names_in(module))
            return self
        self = codegen_.create_library(name)  # numba's load, without the parse
        self.enable_object_caching()
        self._set_compiled_object(object_code)
        self._truce_bitcode = bitcode
        self._finalize_final_module()
        defined.update(names)  # what numba's own load lists
        return self

    def _get_module_for_linking(self):
        bitcode = self.__dict__.pop("_truce_bitcode", None)
        if bitcode is not None:  # a compilation links it: its module now
            self._shared_module = ll.parse_bitcode(bitcode)
        return linking(self)

    library._unserialize = classmethod(_unserialize)  # type: ignore[method-assign, assignment]
    library._get_module_for_linking = _get_module_for_linking  # type: ignore[method-assign]
    return True


def _names_in(module) -> frozenset[str]:
    """The names an LLVM module defines (``JitEngine._load_defined_symbols``'s)."""
    return frozenset(
        value.name
        for values in (module.functions, module.global_variables)
        for value in values
        if not value.is_declaration
    )


def _symbols_folder():
    """The folder of the libraries' names (None where numba's cache has no folder)."""
    from sim.model.kernels import _cache_folder

    folder = _cache_folder()
    return None if folder is None else folder / SYMBOLS


def _defined_names(key: str) -> frozenset[str] | None:
    """The names the library of bitcode hash ``key`` defines, if kept; else None."""
    folder = _symbols_folder()
    if folder is None:
        return None
    try:
        names = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return frozenset(names)


def _keep_names(key: str, names: frozenset[str]) -> None:
    """Keep the names a library defines, whole or not at all (nothing where it cannot be)."""
    from sim.model.kernels import write_whole

    folder = _symbols_folder()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_whole(folder / f"{key}.json", json.dumps(sorted(names)))
    except OSError:
        pass


_read_lazily()
for _kernel in list(globals().values()):
    if isinstance(_kernel, CPUDispatcher):
        _load_from_the_cache(_kernel)
del _kernel
