"""Statistics over seeds: intervals, robust means, paired contrasts and their decisions.

Variants of an experiment share seeds (the same seed sees the same sequences), so
comparisons are paired: per-seed differences, their mean with a t interval (right at
small n), a paired t test Holm-corrected across the experiment's declared contrasts
only, an exact sign-flip permutation test as a check that assumes no normality, and
the share of seeds on which the variant wins. Each contrast is decided from its
corrected interval: better, worse, equivalent within the contrast's margin (two
one-sided tests), or undecided with the seeds that would decide it. Everything is
deterministic, so the same results give the same report.
"""

import warnings
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 10_000
ALPHA = 0.05
ACCURACY = (0.0, 1.0)  # where an accuracy's interval is cut
DIFFERENCE = (-1.0, 1.0)  # where a difference of two accuracies' interval is cut
MOST_SEEDS = 10_000  # beyond this many paired seeds a contrast is called out of reach


@dataclass(frozen=True)
class Estimate:
    """A statistic over seeds with its 95% interval (NaN bounds where there is none)."""

    value: float
    low: float
    high: float
    n: int


NO_SEEDS = Estimate(float("nan"), float("nan"), float("nan"), 0)


def mean_interval(values, confidence: float = CONFIDENCE, bounds=(-np.inf, np.inf)) -> Estimate:
    """The mean over seeds with its t interval (NaNs dropped; no interval for one seed), cut
    to `bounds` where the quantity cannot lie outside them (an accuracy: 0 and 1)."""
    values = _finite(values)
    n = values.size
    if n == 0:
        return NO_SEEDS
    mean = float(values.mean())
    if n == 1:
        return Estimate(mean, float("nan"), float("nan"), 1)
    half = stats.t.ppf((1 + confidence) / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return Estimate(mean, max(mean - half, bounds[0]), min(mean + half, bounds[1]), n)


def accuracy_interval(values) -> Estimate:
    """Mean held-out accuracy over seeds with its 95% t interval, cut to [0, 1]."""
    return mean_interval(values, bounds=ACCURACY)


def share_interval(successes: int, n: int) -> Estimate:
    """A share of seeds with its exact (Clopper-Pearson) 95% interval."""
    if n == 0:
        return NO_SEEDS
    interval = stats.binomtest(int(successes), int(n)).proportion_ci(CONFIDENCE, method="exact")
    return Estimate(successes / n, float(interval.low), float(interval.high), int(n))


def median_epochs(epochs, budget) -> Estimate:
    """Kaplan-Meier median of the epochs a seed takes to reach a threshold, seeds that never
    reach it censored at their epoch budget, with its 95% interval (Greenwood bounds of the
    survival curve); NaN where the curve never falls to one half."""
    epochs, budget = np.asarray(epochs, float), np.asarray(budget, float)
    if epochs.size == 0:
        return NO_SEEDS
    reached = np.isfinite(epochs)
    data = stats.CensoredData(uncensored=epochs[reached], right=budget[~reached])
    survival = stats.ecdf(data).sf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        band = survival.confidence_interval(CONFIDENCE)
    times = survival.quantiles

    def crossing(probabilities):
        below = np.flatnonzero(np.asarray(probabilities) <= 0.5)
        return float(times[below[0]]) if below.size else float("nan")

    return Estimate(crossing(survival.probabilities), crossing(band.low.probabilities),
                    crossing(band.high.probabilities), int(epochs.size))


def noise_share(accuracies, values: int) -> float:
    """How much of the variance between seeds held-out noise alone explains: the mean binomial
    variance of a seed's accuracy on `values` held-out values, p(1 - p) / values, over the
    variance of the accuracies between seeds (a ratio: above 1 where the seeds differ less than
    noise would make them; NaN where they do not differ)."""
    p = _finite(accuracies)
    spread = p.var(ddof=1) if p.size > 1 else 0.0
    return float(np.mean(p * (1 - p)) / values / spread) if spread > 0 else float("nan")


def interquartile_mean(values) -> float:
    """Mean of the middle half of the seeds (robust to a few outlying seeds)."""
    return float(stats.trim_mean(_finite(values), 0.25))


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment of p-values (family-wise error at the nominal level)."""
    p = np.asarray(p_values, float)
    order = np.argsort(p, kind="stable")
    m = p.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    return result


def holm_levels(p_values, alpha: float = ALPHA) -> np.ndarray:
    """The level at which each p-value's interval is drawn so that intervals agree with Holm's
    procedure: alpha / (m - k) for the k-th smallest (from 0) while Holm rejects, and for every
    one from the first it keeps, that step's level. An interval then excludes 0 exactly when
    Holm rejects (for the paired t test)."""
    p = np.asarray(p_values, float)
    m = p.size
    levels = np.empty(m)
    stopped = None
    for k, i in enumerate(np.argsort(p, kind="stable")):
        step = alpha / (m - k)
        if stopped is None and p[i] > step:
            stopped = step
        levels[i] = step if stopped is None else stopped
    return levels


def sign_flip_p(differences) -> float:
    """Two-sided p of a sign-flip permutation test of the mean per-seed difference: exact
    (every sign pattern) up to 16 seeds, else 100,000 seeded random patterns."""
    d = _finite(differences)
    if d.size < 2 or np.all(d == 0):  # one seed's two sign patterns are as extreme: p = 1
        return 1.0
    result = stats.permutation_test((d,), np.mean, permutation_type="samples",
                                    n_resamples=100_000, alternative="two-sided",
                                    rng=np.random.default_rng(0))
    return float(result.pvalue)


def paired_t_p(differences) -> float:
    """Two-sided p of the paired t test on per-seed differences (0 or 1 when they do not vary)."""
    d = _finite(differences)
    if d.size < 2:
        return 1.0
    if np.all(d == d[0]):
        return 1.0 if d[0] == 0 else 0.0
    return float(stats.ttest_1samp(d, 0.0).pvalue)


def improvement(differences) -> Estimate:
    """P(the variant beats the reference on a seed), ties counting half, with a Wilson 95%
    interval over the seeds."""
    d = _finite(differences)
    n = d.size
    if n == 0:
        return NO_SEEDS
    share = float(((d > 0).sum() + (d == 0).sum() / 2) / n)
    z = stats.norm.ppf((1 + CONFIDENCE) / 2)
    centre = (share + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(share * (1 - share) / n + z**2 / (4 * n**2))
    return Estimate(share, max(0.0, centre - half), min(1.0, centre + half), n)


class Verdict(StrEnum):
    """What a paired contrast's corrected interval says of the variant against its reference."""

    BETTER = "better"
    WORSE = "worse"
    EQUIVALENT = "equivalent"  # within ±δ (two one-sided tests)
    UNDECIDED = "undecided"  # none of these yet


class Size(StrEnum):
    """How large a better or worse difference is against δ."""

    BEYOND = "beyond"  # the interval lies beyond δ
    NEGLIGIBLE = "negligible"  # the TOST interval lies inside ±δ
    UNSETTLED = "unsettled"  # the interval crosses δ


class Position(StrEnum):
    """Where a mean lies against a target ± tolerance."""

    INSIDE = "inside"  # the 90% interval inside (two one-sided tests)
    ABOVE = "above"  # the 95% interval wholly above
    BELOW = "below"  # the 95% interval wholly below
    UNDECIDED = "undecided"  # none of these yet


class Claim(StrEnum):
    """The tutorial's claim against the measured mean."""

    HOLDS = "holds"
    FAILS = "fails"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class Decision:
    """What a paired contrast says, from its corrected interval (its words: report.wording)."""

    variant: str
    reference: str
    delta: float
    n: int
    difference: Estimate  # mean per-seed difference, interval at Holm's level for it
    equivalence: Estimate  # the same mean, interval for two one-sided tests at alpha / m
    p: float
    p_holm: float
    p_sign_flip: float
    improvement: Estimate
    verdict: Verdict
    seeds_needed: int | None  # paired seeds that would decide it at the observed spread

    @property
    def size(self) -> Size | None:
        """For a better or worse verdict, whether the difference matters against δ; None for
        other verdicts."""
        if self.verdict not in (Verdict.BETTER, Verdict.WORSE):
            return None
        d, e = self.difference, self.equivalence
        if d.low > self.delta or d.high < -self.delta:
            return Size.BEYOND
        if -self.delta < e.low and e.high < self.delta:
            return Size.NEGLIGIBLE
        return Size.UNSETTLED

    @property
    def open(self) -> bool:
        """Whether more seeds could still change what the decision says: undecided, or better
        or worse by a size not yet settled."""
        return self.verdict == Verdict.UNDECIDED or self.size == Size.UNSETTLED


def decide(runs: pd.DataFrame, contrasts, column: str = "eval_accuracy", alpha: float = ALPHA,
           details: bool = True) -> list[Decision]:
    """Decide every declared contrast (objects with `variant`, `reference`, `delta`) on the
    seeds both of its variants have, Holm-corrected across these contrasts only. Without
    `details`, the sign-flip check and the seeds needed (which decide nothing) are left out."""
    table = runs.pivot(index="seed", columns="variant", values=column)
    differences = [(table[c.variant] - table[c.reference]).dropna().to_numpy(float)
                   for c in contrasts]
    return decide_differences(differences, contrasts, alpha, details)


def decide_differences(differences: list[np.ndarray], contrasts, alpha: float = ALPHA,
                       details: bool = True) -> list[Decision]:
    """Decide each contrast from its paired differences (variant minus reference, one per
    seed), Holm-corrected across these contrasts: arrays in, decisions out."""
    p = np.array([paired_t_p(d) for d in differences])
    adjusted, levels = holm(p), holm_levels(p, alpha)
    m = len(contrasts)
    decisions = []
    for contrast, d, p_i, p_holm, level in zip(contrasts, differences, p, adjusted, levels):
        difference = mean_interval(d, 1 - level, DIFFERENCE)
        equivalence = mean_interval(d, 1 - 2 * alpha / m, DIFFERENCE)
        if d.size >= 2 and p_holm < alpha:
            verdict = Verdict.BETTER if difference.value > 0 else Verdict.WORSE
        elif d.size >= 2 and -contrast.delta < equivalence.low and equivalence.high < contrast.delta:
            verdict = Verdict.EQUIVALENT
        else:
            verdict = Verdict.UNDECIDED
        needed = (_seeds_needed(d, contrast.delta, level, 2 * alpha / m)
                  if details and verdict == Verdict.UNDECIDED and d.size >= 2 else None)
        decisions.append(Decision(contrast.variant, contrast.reference, contrast.delta, d.size,
                                  difference, equivalence, float(p_i), float(p_holm),
                                  sign_flip_p(d) if details else float("nan"),
                                  improvement(d), verdict, needed))
    return decisions


def _seeds_needed(d: np.ndarray, delta: float, level: float, tost_level: float) -> int | None:
    """The fewest paired seeds whose interval, at the observed mean and spread, would exclude
    0 (at `level`) or fit inside ±delta (at `tost_level`, two one-sided tests)."""
    mean, spread = abs(float(d.mean())), float(d.std(ddof=1))
    n = np.arange(d.size + 1, MOST_SEEDS + 1)
    width = spread / np.sqrt(n)
    decided = ((mean - stats.t.ppf(1 - level / 2, n - 1) * width > 0)
               | (mean + stats.t.ppf(1 - tost_level / 2, n - 1) * width < delta))
    return int(n[decided.argmax()]) if decided.any() else None


@dataclass(frozen=True)
class ClaimVerdict:
    """The tutorial's claim against the measured mean, within `tolerance`; and, where chance
    matters, the measured mean against chance (its words: report.wording)."""

    claimed: float
    tolerance: float
    measured: Estimate
    position: Position  # of the measured mean against the claim
    chance: float | None = None
    against_chance: Position | None = None

    @property
    def verdict(self) -> Claim:
        """Holds inside the claim's tolerance, fails wholly outside it, else undecided."""
        return {Position.INSIDE: Claim.HOLDS,
                Position.UNDECIDED: Claim.UNDECIDED}.get(self.position, Claim.FAILS)


def judge_claim(values, claimed: float, tolerance: float, chance: float | None = None,
                alpha: float = ALPHA) -> ClaimVerdict:
    """Holds when the 1 - 2 alpha (90%) interval lies inside claimed ± tolerance (two one-sided
    tests at alpha), fails when the 1 - alpha (95%) interval lies wholly outside it, else
    undecided. Against chance (given for a claim of 0%, which chance makes impossible) the same
    positions: inside, above, below, undecided."""
    against = None if chance is None else position(values, chance, tolerance, alpha)
    return ClaimVerdict(claimed, tolerance, accuracy_interval(values),
                        position(values, claimed, tolerance, alpha), chance, against)


def position(values, target: float, tolerance: float, alpha: float = ALPHA) -> Position:
    """Where the mean of `values` lies against target ± tolerance: inside by two one-sided
    tests at alpha, wholly above or below at 1 - alpha, else undecided (also under 2 values)."""
    inner, outer = mean_interval(values, 1 - 2 * alpha), mean_interval(values, 1 - alpha)
    if outer.n >= 2 and target - tolerance < inner.low and inner.high < target + tolerance:
        return Position.INSIDE
    if outer.n >= 2 and outer.low > target + tolerance:
        return Position.ABOVE
    if outer.n >= 2 and outer.high < target - tolerance:
        return Position.BELOW
    return Position.UNDECIDED


def share_shown(successes, n, confidence: float = CONFIDENCE) -> np.ndarray:
    """The share of seeds these seeds show at least: the exact (Clopper-Pearson) one-sided
    lower confidence bound of `successes` in `n`, elementwise (0 without a success)."""
    k, n = np.asarray(successes, float), np.asarray(n, float)
    with np.errstate(invalid="ignore"):
        bound = stats.beta.ppf(1 - confidence, np.maximum(k, 1), n - k + 1)
    return np.where(k > 0, bound, 0.0)


def seeds_to_show(share: float, confidence: float = CONFIDENCE) -> int:
    """The fewest seeds, all successes, that show at least `share` (one-sided exact bound)."""
    return int(np.ceil(np.log(1 - confidence) / np.log(share)))


def units_needed(runs: pd.DataFrame, learned: float, share: float,
                 resamples: int = RESAMPLES) -> pd.DataFrame:
    """Per lag, the fewest units with which the seeds show that at least `share` of seeds reach
    `learned` held-out accuracy (the share's exact one-sided 95% lower bound reaches it), with
    a 95% percentile bootstrap interval.

    Seeds are resampled together across a lag's sizes (a seed sees the same sequences at
    every size); a resample in which no size is enough counts as above the largest, shown
    as inf. Also given: the seeds that learned at the chosen size (else at the size where the
    most did, `at_units`) and the share they show.
    """
    rng = np.random.default_rng(0)
    rows = []
    for lag, group in runs.groupby("lag"):
        table = group.pivot_table(index="seed", columns="units", values="eval_accuracy")
        sizes = table.columns.to_numpy(float)
        reached = (table.to_numpy() >= learned)
        n = len(reached)
        point = _fewest(share_shown(reached.sum(axis=0, keepdims=True), n), sizes, share)[0]
        picks = rng.integers(0, n, size=(resamples, n))
        needed = _fewest(share_shown(reached[picks].sum(axis=1), n), sizes, share)
        low, high = np.percentile(needed, [100 * (1 - CONFIDENCE) / 2, 100 * (1 + CONFIDENCE) / 2],
                                  method="lower")
        counts = reached.sum(axis=0)
        at = sizes == point if np.isfinite(point) else np.arange(len(sizes)) == counts.argmax()
        learned_there = int(counts[at][0])
        rows.append({"lag": int(lag), "units_needed": point, "low": low, "high": high,
                     "at_units": int(sizes[at][0]), "seeds_learned": learned_there, "seeds": n,
                     "shown": float(share_shown(learned_there, n))})
    return pd.DataFrame(rows)


def _finite(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]


def _fewest(shares: np.ndarray, sizes: np.ndarray, share: float) -> np.ndarray:
    """For each row of shares (one per size), the smallest size whose share is enough (inf if none)."""
    enough = shares >= share
    first = np.where(enough.any(axis=1), enough.argmax(axis=1), -1)
    return np.where(first >= 0, sizes[np.maximum(first, 0)], np.inf)
