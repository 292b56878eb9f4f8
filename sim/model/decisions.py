"""Pure, vectorised decision rules and state updates.

Every function takes and returns NumPy arrays whose last axis is the replicate
axis (length R), so one call decides for all replicate truces at once. None of
them touches a model or a random generator: they are unit-tested directly.
The equations are numbered as in ``docs/MODEL.md``.
"""

from __future__ import annotations

import importlib

import numpy as np

try:  # the ufunc ``np.clip`` calls for float arrays: the same numbers without its wrapper
    _clip = importlib.import_module("numpy._core.umath").clip
except ImportError:  # pragma: no cover - NumPy 1.x
    _clip = importlib.import_module("numpy.core.umath").clip


def restraint(leverage_x_commitment: np.ndarray) -> np.ndarray:
    """(E1) Combined restraint a party's sponsors impose: 1 − Π(1 − leverage·commitment).

    Args:
        leverage_x_commitment: shape (n_sponsors,) or (n_sponsors, R); empty for none.
    """
    lc = np.asarray(leverage_x_commitment, dtype=float)
    if lc.size == 0:
        return np.zeros(lc.shape[1:] if lc.ndim > 1 else ())
    return 1.0 - np.prod(1.0 - lc, axis=0)


def defection_probability(
    advantage: np.ndarray,
    regroup: np.ndarray,
    resolve: float | np.ndarray,
    fatigue: np.ndarray,
    restraint_level: float | np.ndarray,
    p_detect: float | np.ndarray,
    *,
    base_propensity: float,
    gain_sensitivity: float,
    regroup_weight: float,
    restraint_weight: float,
    reputation_cost: float,
    sanction_weight: float,
    distrust: float | np.ndarray = 0.0,
    fear_weight: float = 0.0,
    guarantee: float | np.ndarray = 0.0,
) -> np.ndarray:
    """(E2–E4) Daily chance that a party deliberately violates the truce.

    gain = resolve · (advantage + regroup_weight · regroup) + fear_weight · distrust
    cost = restraint_weight · restraint + p_detect · (reputation_cost + sanction_weight · restraint)
           + guarantee                  (guarantee_weight · guarantor troops, E20)
    p    = base_propensity · exp(gain_sensitivity · (gain − cost)) · (1 − fatigue), in [0, 1]
    """
    gain = resolve * (advantage + regroup_weight * regroup) + fear_weight * distrust
    cost = (
        restraint_weight * restraint_level
        + p_detect * (reputation_cost + sanction_weight * restraint_level)
        + guarantee
    )
    p = base_propensity * np.exp(gain_sensitivity * (gain - cost)) * (1.0 - fatigue)
    return _clip(p, 0.0, 1.0)


def weighted_strength(total: np.ndarray, total_of_squares: np.ndarray) -> np.ndarray:
    """(E2c) Strength-weighted mean strength of a set of parties: Σ s² / Σ s (0 if Σ s = 0).

    Each party counts in proportion to its forces, so a party with none (s = 0)
    changes nothing; equal parties give their common strength.
    """
    return np.divide(
        total_of_squares,
        total,
        out=np.zeros(np.broadcast(total, total_of_squares).shape),
        where=total > 0,
    )


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(E2c) Mean of ``values`` over axis 0 weighted by ``weights``; plain mean if they sum to 0."""
    if len(values) == 1:  # one party: the same arithmetic without the reductions
        value, weight = values[0], weights[0]
        plain = np.array(value, dtype=float)
        return np.divide(value * weight, weight, out=plain, where=weight > 0)
    total = weights.sum(0)
    plain = np.add.reduce(values, 0) / len(values)  # what ``values.mean(0)`` computes
    weighted = (values * weights).sum(0)
    return np.divide(weighted, total, out=np.asarray(plain, dtype=float), where=total > 0)


def pick_weighted(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """(E2c) Index along axis 0 chosen with chance proportional to ``weights`` by uniforms ``u``.

    Where every weight is 0, the choice is uniform.

    Args:
        weights: shape (A, ...) non-negative.
        u: uniforms, shape ``weights.shape[1:]``.
    """
    n = weights.shape[0]
    cdf = np.cumsum(weights, axis=0)
    total = cdf[-1]
    by_weight = (u * total >= cdf).sum(0)
    if np.all(total > 0):
        return np.minimum(by_weight, n - 1)
    uniform = (u * n).astype(np.int64)
    return np.minimum(np.where(total > 0, by_weight, uniform), n - 1)


def rate_to_probability(rate: float | np.ndarray) -> np.ndarray:
    """(E5) Chance of at least one event in a day for a Poisson rate per day."""
    return -np.expm1(-np.maximum(rate, 0.0))


def loophole_hit_probability(
    strike_tempo: float, loophole_width: float, loophole_hit: float, entanglement: np.ndarray
) -> np.ndarray:
    """(E6) Daily chance that strikes under the exemptions hit an entangled truce party."""
    return rate_to_probability(strike_tempo * loophole_width * loophole_hit * entanglement)


def accident_probability(air_forces: int, deconfliction: float, accident_rate: float) -> float:
    """(E7) Daily chance of an incident among foreign forces: rises with pairs of air forces."""
    pairs = air_forces * (air_forces - 1) / 2.0
    return float(rate_to_probability(accident_rate * pairs * (1.0 - deconfliction)))


#: (E8b) The share of the custodians' inducement that reaches each kind of spoiler: a limited
#: spoiler's demands can be met, a greedy one's only in part, a total one's not at all
#: (Stedman, "Spoiler Problems in Peace Processes", International Security 22, 1997).
INDUCEMENT_REACH = {"total": 0.0, "greedy": 0.5, "limited": 1.0}


def spoiler_probability(
    strength: float,
    intent: float,
    calm: np.ndarray,
    spoiler_rate: float,
    calm_boost: float,
    kind: str = "total",
    p_detect: float | np.ndarray = 0.0,
    inducement: float = 0.0,
) -> np.ndarray:
    """(E8, E8b) Daily attack chance of an excluded group, by Stedman's kind of spoiler.

    total:   rate · S · I · (1 + calm_boost · calm)      grows as the truce holds calm (E8)
    greedy:  rate · S · I · (1 − p_detect) · (1 − ι/2)   weighs the cost of being seen
    limited: rate · S · I · (1 − ι)                      its limited aims can be met

    with ι the ``inducement`` (the share of its demands the custodians meet; it reaches
    each kind by :data:`INDUCEMENT_REACH`, a total spoiler not at all).
    """
    if kind == "total":
        return _clip(spoiler_rate * strength * intent * (1.0 + calm_boost * calm), 0.0, 1.0)
    factor = np.asarray(1.0 - INDUCEMENT_REACH[kind] * inducement, dtype=float)
    if kind == "greedy":
        factor = factor * (1.0 - np.asarray(p_detect, dtype=float))
    shape = np.broadcast(np.asarray(calm), factor).shape
    p = np.broadcast_to(spoiler_rate * strength * intent * factor, shape)
    return _clip(p, 0.0, 1.0)


def retaliation_probability(
    trust: np.ndarray,
    fatigue: np.ndarray,
    threshold: float,
    rate: float,
    grudge: np.ndarray | float = 1.0,
    restraint_level: float | np.ndarray = 0.0,
    hostility_threshold: float = 0.0,
    generosity: float = 0.0,
) -> np.ndarray:
    """(E9, E9c) Daily chance of attacking an adversary in answer to a grievance, or in hostility.

    answer    = clip(1 − trust / threshold) · min(grudge, 1)
    hostility = clip(1 − trust / hostility_threshold)          (0 when that threshold is 0)
    p = rate · max(answer, hostility) · (1 − fatigue) · (1 − restraint) · (1 − generosity)

    Above ``threshold`` a party lets violations pass (generous tit-for-tat);
    below it, it answers unanswered grievances (``grudge``, E9b). Below the
    lower ``hostility_threshold`` it does not believe in the truce at all and
    attacks without a fresh grievance. Sponsors damp both (E1). A generous party
    lets a grudge go on a day with chance ``generosity`` (E9c, Wu & Axelrod's
    generous tit-for-tat); at 0 the rule is E9 exactly.
    """
    if threshold <= 0:
        return np.zeros_like(trust)
    shortfall = _clip(1.0 - trust / threshold, 0.0, 1.0)
    answer = shortfall * np.minimum(np.asarray(grudge, dtype=float), 1.0)
    if hostility_threshold > 0:
        answer = np.maximum(answer, _clip(1.0 - trust / hostility_threshold, 0.0, 1.0))
    p = rate * answer * (1.0 - fatigue) * (1.0 - restraint_level)
    if generosity > 0:
        p = p * (1.0 - generosity)
    return _clip(p, 0.0, 1.0)


def contrite_acceptance(
    fired: np.ndarray, wrong: np.ndarray, u: np.ndarray, contrition: float
) -> np.ndarray:
    """(E9c) Answers their victim accepts as deserved: no trust cut, no grudge, no grievance.

    accepted = fired ∧ ¬wrong ∧ (u < contrition)

    Only an answer to a grievance that was not misattributed (``wrong`` False: its victim
    truly committed the violation being answered) can be accepted; a party that did
    accepts it with chance ``contrition`` (Wu & Axelrod's contrite tit-for-tat). Shapes:
    (answers, R); ``u`` one uniform per answer from the reciprocity stream.
    """
    return fired & ~wrong & (u < contrition)


def update_grudge(
    grudge: np.ndarray, perceived: np.ndarray, answered: np.ndarray, memory: float
) -> np.ndarray:
    """(E9b) Unanswered grievances: each perceived violation adds one, each answer removes one.

    grudge' = max(grudge − answered, 0) · exp(−1 / memory) + perceived

    Grievances fade with a memory of ``memory`` days (e-folding time).
    """
    kept = np.maximum(grudge - answered, 0.0) * np.exp(-1.0 / max(memory, 1e-9))
    return kept + perceived


def consolidate(baseline: np.ndarray, calm: np.ndarray, rate: float) -> np.ndarray:
    """(E10b) Sustained calm consolidates a truce: the level trust heals to rises toward 1.

    baseline' = baseline + rate · calm · (1 − baseline)
    """
    return _clip(baseline + rate * calm * (1.0 - baseline), 0.0, 1.0)


def update_trust(
    trust: np.ndarray,
    baseline: np.ndarray,
    perceived: np.ndarray,
    trust_loss: float,
    forgiveness: float,
) -> np.ndarray:
    """(E10) Perceived violations cut trust multiplicatively; a quiet day lets it recover.

    trust' = trust · (1 − trust_loss)^perceived                  if perceived > 0
    trust' = trust + forgiveness · (baseline − trust)             otherwise
    """
    hit = trust * (1.0 - trust_loss) ** perceived
    healed = trust + forgiveness * np.maximum(baseline - trust, 0.0)
    return _clip(np.where(perceived > 0, hit, healed), 0.0, 1.0)


def restore_trust(
    trust: np.ndarray, baseline: np.ndarray, corrected: np.ndarray, trust_loss: float
) -> np.ndarray:
    """(E10, delayed corrections) Verified reports undo ``corrected`` misread cuts of trust.

    trust' = min(trust / (1 − trust_loss)^corrected, max(baseline, trust))

    When ``(1 − trust_loss)^corrected`` is 0 (``trust_loss`` = 1: a misread violation
    wiped trust out and left nothing to divide), the correction restores the ceiling
    ``max(baseline, trust)``, the limit of the rule as ``trust_loss`` → 1. Edges with
    ``corrected`` = 0 keep their trust.
    """
    ceiling = np.maximum(baseline, trust)
    factor = (1.0 - trust_loss) ** corrected
    restored = np.divide(trust, factor, out=ceiling.copy(), where=factor > 0)
    return np.minimum(restored, ceiling)


def update_fatigue(
    fatigue: np.ndarray,
    suffered: np.ndarray,
    calm: np.ndarray | float,
    gain: float,
    recovery: float,
) -> np.ndarray:
    """(E11) Fighting raises fatigue; calm days let it recover."""
    return _clip(fatigue + gain * suffered - recovery * calm, 0.0, 1.0)


def regroup(
    strength: np.ndarray, adversary: np.ndarray, calm: np.ndarray, rate: float
) -> np.ndarray:
    """(E12) In calm, the weaker side recovers a share of the strength gap."""
    gap = np.maximum(adversary - strength, 0.0)
    return _clip(strength + rate * gap * calm, 0.0, 1.0)


def collapse_now(high_days: np.ndarray, days_above: int) -> np.ndarray:
    """(E13) Violence rule: at least K high-violence days in the window."""
    return high_days >= days_above


def dominant_origin(origin_counts: np.ndarray) -> np.ndarray:
    """(E14) Index of the most frequent origin (axis 0); ties go to the earlier origin."""
    return np.argmax(origin_counts, axis=0)


def escalation_days(
    u: np.ndarray, fatigue: np.ndarray, resolve: np.ndarray, rate: float
) -> np.ndarray:
    """(E15) Days from collapse to a full offensive: geometric, slower when parties are tired."""
    p = _clip(rate * (1.0 - fatigue) * (0.5 + resolve), 1e-6, 1.0 - 1e-9)
    return np.maximum(1, np.ceil(np.log1p(-u) / np.log1p(-p))).astype(np.int64)


def mediate(
    grudge: np.ndarray,
    trust: np.ndarray,
    working: np.ndarray,
    settle_share: float,
    trust_gain: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(E17) On a day the envoy works, grievances are settled and trust rises.

    grudge' = grudge · (1 − settle_share · working)
    trust'  = trust + trust_gain · working · (1 − trust)

    Args:
        grudge: unanswered grievances per trust edge, shape (edges, R).
        trust: trust per edge, shape (edges, R).
        working: whether the envoy works today, shape (R,).
        settle_share: share of the unanswered grievances settled on a day of work.
        trust_gain: share of the distance to full trust closed on a day of work.
    """
    w = np.asarray(working, dtype=float)
    settled = grudge * (1.0 - settle_share * w)
    raised = _clip(trust + trust_gain * w * (1.0 - trust), 0.0, 1.0)
    return settled, raised


def guarantee_cost(troops: np.ndarray, guarantee_weight: float) -> np.ndarray:
    """(E20) Cost a guarantor's troops add to attacking in their theatre (a term of E3).

    cost = guarantee_weight · troops, for every party present (not only the guarantor's
    clients): the troops are a tripwire.
    """
    return guarantee_weight * np.asarray(troops, dtype=float)


def guarantee_damping(
    troops: np.ndarray, guarantee_weight: float, gain_sensitivity: float
) -> np.ndarray:
    """(E20) Factor on the chance of retaliating in a theatre with guarantor troops.

    damping = exp(−gain_sensitivity · guarantee_weight · troops)

    The factor by which the same cost scales a first strike's chance (E4): an answer is
    an attack on the guarantor's ground like any other.
    """
    return np.exp(-gain_sensitivity * guarantee_cost(troops, guarantee_weight))


def through_buffer(p: np.ndarray | float, buffer: np.ndarray | float) -> np.ndarray:
    """(E20) A buffer zone over a share ``buffer`` of the line of contact cuts ``p`` by that share.

    p' = p · (1 − buffer): units clash without orders, and accidents hit, only where
    they are in contact.
    """
    return np.asarray(p, dtype=float) * (1.0 - np.asarray(buffer, dtype=float))


def settled_by_commission(
    fired: np.ndarray, u: np.ndarray, chance: np.ndarray | float
) -> np.ndarray:
    """(E21) Incidents a joint commission settles before they become grievances.

    settled = fired ∧ (u < chance), with ``chance`` the joint commission of each act's
    theatre and ``u`` one uniform per act (stream ``commission``).
    """
    return fired & (u < chance)


def ground_offensive_probability(
    ground_tempo: float, loophole_width: float, loophole_hit: float, entanglement: np.ndarray
) -> np.ndarray:
    """(E22) Daily chance that the government's ground operations hit an entangled faction.

    E6 with the government's ground tempo in place of a sponsor's strike tempo.
    """
    return loophole_hit_probability(ground_tempo, loophole_width, loophole_hit, entanglement)


def shift_due(
    u: np.ndarray, chance: np.ndarray, day: np.ndarray, today: int, happened: np.ndarray
) -> np.ndarray:
    """(E18) Which shifts happen today: a scheduled one on its day, a random one by chance.

    due = [day_k = today]                            scheduled (day_k ≥ 1)
    due = ¬happened_k · [u_k < chance_k]             random (day_k < 1)

    A random shift happens at most once per truce, so its day is geometric with
    parameter ``chance_k``. Args: ``u``, ``happened`` shape (K, R); ``chance`` and
    ``day`` shape (K, 1).
    """
    scheduled = day >= 1
    return np.where(scheduled, day == today, ~happened & (u < chance))


def shift_value(value: np.ndarray, by: float | None, to: float | None) -> np.ndarray:
    """(E18) The shifted value: ``to`` when given, else ``value + by`` clipped to [0, 1]."""
    if to is not None:
        return np.full_like(value, to, dtype=float)
    return _clip(value + (by or 0.0), 0.0, 1.0)


def offensive_now(advantage: np.ndarray, aims: float, live: np.ndarray) -> np.ndarray:
    """(E19) A party launches an offensive once its advantage passes its aims somewhere.

    offensive = ∃ theatre t still holding: s_i − s̄_A(i),t > aims

    Args:
        advantage: its strength minus its adversaries' in each of its theatres, (T_i, R).
        aims: the advantage it waits for (may be negative: it attacks even while weaker).
        live: whether each of those theatres still holds, (T_i, R).
    """
    return np.asarray(((advantage > aims) & live).any(0))
