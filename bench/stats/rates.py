"""The learning rate as a factor: every variant at every rate on the same evaluation seeds.

Each contrast is decided at every rate, the whole rate x contrast table one Holm family (an
answer reads across the table, so the table is what its error rate must cover). From the table
each contrast gets one word for its robustness to the rate. A tuned estimate chooses each
variant's rate by K-fold cross-fitting over the evaluation seeds (chosen on K - 1 folds, scored
on the held-out fold), so no seed both chooses a rate and scores it. Collapse is counted per
variant and rate. Tables in, records out: nothing here reads or writes files.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from bench.stats.estimates import ALPHA, Decision, Estimate, Size, Verdict, decide_differences, share_interval

SUFFIX = "[learning_rate="  # how a variant run at another rate than its own is named
LEARNS = 0.5  # a variant learns at all at a rate where its median held-out accuracy reaches this
COLLAPSE = 0.1  # a seed collapses more than this below its variant's median at its best rate
FOLDS = 5  # cross-fitting folds (fewer with fewer seeds)


def declared_variant(name: str) -> str:
    """The variant a run was derived from, without its learning rate
    (`lstm[learning_rate=0.01][cell=m:C]` was derived from `lstm[cell=m:C]`)."""
    return re.sub(rf"{re.escape(SUFFIX)}[^\]]*\]", "", name)


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
    return runs[~runs["variant"].str.contains(SUFFIX, regex=False)]


def at_each_rate(runs: pd.DataFrame) -> list[tuple[float | None, pd.DataFrame]]:
    """The runs at the protocol's rates (None: each variant at its own), then those at each
    other rate they ran (ascending)."""
    others = runs[runs["variant"].str.contains(SUFFIX, regex=False)]
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
    medians = scores.median()
    best = float(medians.idxmax())
    return best if own not in medians or medians[best] > medians[own] + delta else own


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
    dealt = tuple(tuple(int(s) for s in seeds[i::k]) for i in range(k))
    chosen, scored = [], {}
    for fold in dealt:
        rate = choose_rate(complete.drop(index=list(fold)), own, delta)
        chosen.append(rate)
        scored.update({seed: float(complete.loc[seed, rate]) for seed in fold})
    return CrossFitted(variant, pd.Series(scored).sort_index(), tuple(chosen), dealt)


def tuned(runs: pd.DataFrame, contrasts, own: dict[str, float], alpha: float = ALPHA,
          details: bool = True) -> tuple[dict[str, CrossFitted], list[Decision]]:
    """Each variant of `own` (declared name -> its own rate) cross-fitted over the rates, and
    every contrast decided on the cross-fitted scores (paired by seed, Holm across them). The
    rate is chosen with the smallest δ of the contrasts it takes part in."""
    table = by_rate(runs)
    deltas = {v: min([c.delta for c in contrasts if v in (c.variant, c.reference)] or [0.0])
              for v in own}
    fitted = {v: cross_fit(table[v], v, rate, deltas[v]) for v, rate in own.items()
              if v in table.columns.get_level_values(0)}
    differences = [(fitted[c.variant].scores - fitted[c.reference].scores).dropna().to_numpy(float)
                   if {c.variant, c.reference} <= set(fitted) else np.array([])
                   for c in contrasts]
    return fitted, decide_differences(differences, list(contrasts), alpha, details)


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
