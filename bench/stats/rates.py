"""The learning rate as a factor: every variant at every rate on the same evaluation seeds.

Each contrast is decided at every rate, the whole rate x contrast table one Holm family (an
answer reads across the table, so the table is what its error rate must cover). From the table
each contrast gets one word for its robustness to the rate. A tuned estimate chooses each
variant's rate by K-fold cross-fitting over the evaluation seeds (chosen on K - 1 folds, scored
on the held-out fold), so no seed both chooses a rate and scores it. Collapse is counted per
variant and rate. Tables in, records out: nothing here reads or writes files.
"""

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from bench.stats.estimates import (
    ALPHA,
    NO_SEEDS,
    Decision,
    Estimate,
    Size,
    Verdict,
    decide_differences,
    holm,
    holm_levels,
    improvement,
    share_interval,
)
from echo.experiment import AT_RATE, declared_variant

LEARNS = 0.5  # a variant learns at all at a rate where its median held-out accuracy reaches this
COLLAPSE = 0.1  # a seed collapses more than this below its variant's median at its best rate
FOLDS = 5  # cross-fitting folds (fewer with fewer seeds)
PERMUTATIONS = 4096  # swap patterns of a tuned contrast's permutation test (all, up to 12 seeds)


def by_rate(runs: pd.DataFrame, column: str = "eval_accuracy") -> pd.DataFrame:
    """Held-out scores as a table: a row per seed, a column per (declared variant, rate)."""
    table = runs.assign(variant=runs["variant"].map(declared_variant))
    return table.pivot_table(index="seed", columns=["variant", "learning_rate"], values=column)


def declared_contrasts(experiment, runs: pd.DataFrame) -> tuple:
    """The experiment's contrasts between the declared variants these runs hold (at any rate),
    and between those derived with the same `--set` overrides."""
    return experiment.contrasts_among(set(runs["variant"].map(declared_variant)))


def protocol_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs of each variant at its own learning rate, the protocol's."""
    return runs[~runs["variant"].str.contains(AT_RATE, regex=False)]


def at_each_rate(runs: pd.DataFrame) -> list[tuple[float | None, pd.DataFrame]]:
    """The runs at the protocol's rates (None: each variant at its own), then those at each
    other rate they ran (ascending)."""
    others = runs[runs["variant"].str.contains(AT_RATE, regex=False)]
    return [(None, protocol_runs(runs)),
            *[(float(rate), group) for rate, group in others.groupby("learning_rate")]]


@dataclass(frozen=True)
class AtRate:
    """One contrast decided at one rate, and whether either of its variants learns there."""

    rate: float
    decision: Decision
    learns: bool


class Robustness(StrEnum):
    """What a contrast's decisions across the rates, where either variant learns, say together."""

    HOLDS = "holds at every rate"  # one decision wherever either variant learns
    DEPENDS = "depends on the rate"  # two of them contradict each other
    OPEN = "not yet decided"  # none contradict, some are undecided
    NEITHER = "neither learns at any rate"


@dataclass(frozen=True)
class AcrossRates:
    """A declared contrast across the rate grid: its decision at each rate, its robustness, the
    two rates that contradict each other (DEPENDS) or the rates not yet decided (OPEN)."""

    variant: str
    reference: str
    rows: tuple[AtRate, ...]
    robustness: Robustness
    conflict: tuple[AtRate, AtRate] | None
    undecided: tuple[AtRate, ...]


def learns(table: pd.DataFrame) -> dict[tuple[str, float], bool]:
    """Per (declared variant, rate): whether its median over seeds reaches LEARNS."""
    return {key: bool(table[key].median() >= LEARNS) for key in table.columns}


def across_rates(runs: pd.DataFrame, contrasts, alpha: float = ALPHA,
                 details: bool = True) -> list[AcrossRates]:
    """Every contrast (objects with `variant`, `reference`, `delta`, declared names) decided at
    every rate both its variants ran, on the seeds both have there, Holm-corrected across the
    whole table; then its robustness to the rate."""
    table = by_rate(runs)
    learned = learns(table)
    cells = [(c, rate) for c in contrasts for rate in sorted(table.columns.get_level_values(1).unique())
             if (c.variant, rate) in table.columns and (c.reference, rate) in table.columns]
    differences = [(table[c.variant, rate] - table[c.reference, rate]).dropna().to_numpy(float)
                   for c, rate in cells]
    decisions = decide_differences(differences, [c for c, _ in cells], alpha, details)
    found = []
    for c in contrasts:
        rows = tuple(AtRate(rate, d, learned[c.variant, rate] or learned[c.reference, rate])
                     for (cell, rate), d in zip(cells, decisions) if cell is c)
        found.append(_robustness(c, rows))
    return found


def _robustness(contrast, rows: tuple[AtRate, ...]) -> AcrossRates:
    considered = [row for row in rows if row.learns]
    conflicts = [(a, b) for i, a in enumerate(considered) for b in considered[i + 1:]
                 if contradict(a.decision, b.decision)]
    undecided = tuple(row for row in considered if row.decision.open)
    if not considered:
        word = Robustness.NEITHER
    elif conflicts:
        word = Robustness.DEPENDS
    elif undecided:
        word = Robustness.OPEN
    else:
        word = Robustness.HOLDS
    return AcrossRates(contrast.variant, contrast.reference, rows, word,
                       conflicts[0] if conflicts else None, undecided if not conflicts else ())


def contradict(a: Decision, b: Decision) -> bool:
    """Whether two decisions of one contrast cannot both hold of one effect: better at one and
    worse at the other, or beyond δ at one and within it (equivalent or negligible) at the other."""
    directions = {a.verdict, b.verdict}
    if directions == {Verdict.BETTER, Verdict.WORSE}:
        return True
    within = [d.verdict == Verdict.EQUIVALENT or d.size == Size.NEGLIGIBLE for d in (a, b)]
    beyond = [d.size == Size.BEYOND for d in (a, b)]
    return (within[0] and beyond[1]) or (within[1] and beyond[0])


@dataclass(frozen=True)
class CrossFitted:
    """A variant's tuned scores: per seed, its held-out accuracy at the rate chosen on the other
    folds' seeds; the rate each fold chose (in fold order) and the seeds of each fold."""

    variant: str
    scores: pd.Series  # by seed
    choices: tuple[float, ...]
    folds: tuple[tuple[int, ...], ...]


def choose_rate(scores: pd.DataFrame, own: float, delta: float) -> float:
    """The rate with the best median over these seeds (a column per rate), but the variant's
    `own` rate kept unless that best beats it by more than `delta`."""
    rates = scores.columns.to_numpy(float)
    chosen = _choice(scores.median().to_numpy(float)[None], _own(rates, own), delta)
    return float(rates[chosen[0]])


def _choice(medians: np.ndarray, own: int | None, delta: float) -> np.ndarray:
    """Per row of medians (a column per rate), the index of the rate `choose_rate` picks: the
    best, but `own` (an index; None where it did not run) kept unless beaten by more than δ."""
    best = medians.argmax(axis=1)
    if own is None:
        return best
    return np.where(medians[np.arange(len(medians)), best] > medians[:, own] + delta, best, own)


def cross_fit(scores: pd.DataFrame, variant: str, own: float, delta: float,
              folds: int = FOLDS) -> CrossFitted:
    """K-fold cross-fitting over the seeds that ran every rate (a row per seed, a column per
    rate): seeds in order, dealt to min(folds, seeds) folds in turn; each fold's seeds scored
    at the rate `choose_rate` picks on the other folds'."""
    complete = scores.dropna()
    seeds = complete.index.to_numpy()
    k = min(folds, len(seeds))
    if k < 2:
        return CrossFitted(variant, pd.Series(dtype=float), (), ())
    rates = complete.columns.to_numpy(float)
    fitted, chosen = _fitted(complete.to_numpy(float)[None], _own(rates, own), delta, k)
    return CrossFitted(variant, pd.Series(fitted[0], index=seeds).sort_index(),
                       tuple(float(rates[c]) for c in chosen[0]),
                       tuple(tuple(int(s) for s in seeds[i::k]) for i in range(k)))


def _own(rates: np.ndarray, own: float) -> int | None:
    found = np.flatnonzero(rates == own)
    return int(found[0]) if found.size else None


def _fitted(values: np.ndarray, own: int | None, delta: float, k: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Cross-fitted scores of many data sets at once (values: sets x seeds x rates) and the
    rate each fold chose (sets x folds), as `cross_fit` makes them."""
    sets, n, _ = values.shape
    scores, chosen = np.empty((sets, n)), np.empty((sets, k), int)
    every = np.arange(sets)
    for i in range(k):
        held = np.arange(i, n, k)
        choice = _choice(np.median(np.delete(values, held, axis=1), axis=1), own, delta)
        chosen[:, i] = choice
        scores[:, held] = values[every[:, None], held[None, :], choice[:, None]]
    return scores, chosen


def tuned(runs: pd.DataFrame, contrasts, own: dict[str, float], alpha: float = ALPHA,
          permutations: int = PERMUTATIONS) -> tuple[dict[str, CrossFitted], list[Decision]]:
    """Each variant of `own` (declared name -> its own rate) cross-fitted over the rates, and
    every contrast decided on the cross-fitted scores, Holm across them.

    Cross-fitted scores are not independent across seeds (a fold's rate is chosen on the seeds
    the other folds score), so a t test on them calls identical variants different too often.
    Each contrast is decided instead by a permutation test of the whole procedure: under the
    null the two variants are exchangeable on each seed, so swapping them on any set of seeds
    and fitting again gives the null distribution of the mean difference (every swap up to
    `permutations` patterns, else that many seeded at random). Its intervals are the mean
    difference plus or minus that distribution's quantile, at the level Holm holds each
    contrast to (and at 1 - 2 alpha / m for equivalence), so an interval excludes 0 exactly
    when Holm rejects. The rate is chosen with the smallest δ of the contrasts it serves."""
    table = by_rate(runs)
    present = set(table.columns.get_level_values(0))
    deltas = {v: min([c.delta for c in contrasts if v in (c.variant, c.reference)] or [0.0])
              for v in own}
    fitted = {v: cross_fit(table[v], v, rate, deltas[v]) for v, rate in own.items() if v in present}
    pairs = [(table[c.variant], table[c.reference]) if {c.variant, c.reference} <= present
             else None for c in contrasts]
    return fitted, decide_tuned(pairs, contrasts, [own[c.variant] for c in contrasts],
                                [min(deltas[c.variant], deltas[c.reference]) for c in contrasts],
                                alpha, permutations)


def decide_tuned(pairs: list, contrasts, own: list[float], deltas: list[float],
                 alpha: float = ALPHA, permutations: int = PERMUTATIONS) -> list[Decision]:
    """Each contrast's cross-fitted comparison decided by the permutation test of `tuned`, Holm
    across them: `pairs`, per contrast, the variant's and the reference's scores (a row per
    seed, a column per rate; None where one has none), `own` the rate each keeps unless beaten
    by more than its δ in `deltas`."""
    differences, nulls = [], []
    for pair, rate, delta in zip(pairs, own, deltas):
        observed, null = _permuted(*pair, rate, delta, permutations) if pair else ([], [])
        differences.append(np.asarray(observed, float))
        nulls.append(np.asarray(null, float))
    return _decide_permuted(differences, nulls, list(contrasts), alpha)


def _permuted(a: pd.DataFrame, b: pd.DataFrame, own: float, delta: float, permutations: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """The per-seed cross-fitted differences (a minus b) on the seeds both ran at every rate
    both ran, and the mean difference under every swap pattern (the first: none)."""
    rates = sorted(set(a.columns) & set(b.columns))
    both = pd.concat([a[rates], b[rates]], axis=1, keys=["a", "b"]).dropna()
    n = len(both)
    k = min(FOLDS, n)
    if k < 2:
        return np.array([]), np.array([])
    values = np.stack([both["a"].to_numpy(float), both["b"].to_numpy(float)])
    if 2 ** n <= permutations:
        swaps = (np.arange(2 ** n)[:, None] >> np.arange(n)) & 1
    else:
        rng = np.random.default_rng(0)
        swaps = np.vstack([np.zeros(n, int), rng.integers(0, 2, (permutations - 1, n))])
    swapped = swaps.astype(bool)[:, :, None]
    first = np.where(swapped, values[1][None], values[0][None])
    second = np.where(swapped, values[0][None], values[1][None])
    own_index = _own(np.asarray(rates, float), own)
    scores_a, _ = _fitted(first, own_index, delta, k)
    scores_b, _ = _fitted(second, own_index, delta, k)
    differences = scores_a - scores_b
    return differences[0], differences.mean(axis=1)


def _decide_permuted(differences: list[np.ndarray], nulls: list[np.ndarray], contrasts,
                     alpha: float) -> list[Decision]:
    """Decisions from each contrast's observed differences and its null means (see `tuned`)."""
    p = np.array([float(np.mean(np.abs(null) >= abs(null[0]) - 1e-12)) if null.size else 1.0
                  for null in nulls])
    adjusted, levels = holm(p), holm_levels(p, alpha)
    m = len(contrasts)
    decisions = []
    for contrast, d, null, p_i, p_holm, level in zip(contrasts, differences, nulls, p, adjusted,
                                                    levels):
        if not null.size:
            decisions.append(Decision(contrast.variant, contrast.reference, contrast.delta, 0,
                                      NO_SEEDS, NO_SEEDS, 1.0, 1.0, 1.0, NO_SEEDS,
                                      Verdict.UNDECIDED, None))
            continue
        mean = float(null[0])
        spread = np.abs(null)

        def interval(level: float) -> Estimate:
            margin = float(np.quantile(spread, 1 - level, method="higher"))
            return Estimate(mean, mean - margin, mean + margin, d.size)

        difference, equivalence = interval(level), interval(2 * alpha / m)
        if p_holm < alpha:
            verdict = Verdict.BETTER if mean > 0 else Verdict.WORSE
        elif -contrast.delta < equivalence.low and equivalence.high < contrast.delta:
            verdict = Verdict.EQUIVALENT
        else:
            verdict = Verdict.UNDECIDED
        decisions.append(Decision(contrast.variant, contrast.reference, contrast.delta, d.size,
                                  difference, equivalence, float(p_i), float(p_holm),
                                  float(p_i), improvement(d), verdict, None))
    return decisions


@dataclass(frozen=True)
class Collapse:
    """Per rate, the share of a variant's seeds that collapse: more than COLLAPSE below its
    median at its best rate (the rate with the best median), with an exact 95% interval."""

    variant: str
    best_rate: float
    best_median: float
    shares: dict[float, Estimate]


def collapse(table: pd.DataFrame, variant: str) -> Collapse:
    """`Collapse` for one variant from its scores (a row per seed, a column per rate)."""
    medians = table.median()
    best = float(medians.idxmax())
    floor = medians[best] - COLLAPSE
    shares = {}
    for rate in table.columns:
        values = table[rate].dropna()
        shares[float(rate)] = share_interval(int((values < floor).sum()), len(values))
    return Collapse(variant, best, float(medians[best]), shares)


class Change(StrEnum):
    """How a second decision of one contrast (tuned, or at another rate) stands to the first."""

    SAME = "the same"  # the same words
    CHANGES = "changes"  # both decided, and their words differ
    NOT_CONFIRMED = "not confirmed"  # their words differ, and one of them is still open


def change(before: Decision, after: Decision) -> Change:
    """`after` against `before`: the same verdict and size, or not (and then whether both are
    decided)."""
    if (before.verdict, before.size) == (after.verdict, after.size):
        return Change.SAME
    return Change.NOT_CONFIRMED if before.open or after.open else Change.CHANGES


def effect_ratio(before: Decision, after: Decision) -> float | None:
    """How many times larger `after`'s mean difference is than `before`'s, where both lie on the
    same side of zero; None otherwise."""
    a, b = before.difference.value, after.difference.value
    if a == 0 or not np.isfinite(a) or not np.isfinite(b) or np.sign(a) != np.sign(b):
        return None
    return float(b / a)
