"""Statistics over seeds: intervals, robust means and comparisons with the baseline.

Every interval is a 95% percentile bootstrap over seeds (scipy), seeded so
the same results always give the same numbers; comparisons are two-sided
Mann-Whitney U tests, Holm-corrected across an experiment's comparisons
(statsmodels), with the probability of improvement.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

CONFIDENCE = 0.95
RESAMPLES = 10_000
ALPHA = 0.05


@dataclass(frozen=True)
class Estimate:
    """A statistic over seeds with its 95% bootstrap interval."""

    value: float
    low: float
    high: float
    n: int


def bootstrap(values, statistic=np.mean) -> Estimate:
    """Percentile bootstrap interval of `statistic` over the seeds' values (NaNs dropped)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    point = float(statistic(values))
    if values.size == 1 or np.all(values == values[0]):
        return Estimate(point, point, point, int(values.size))
    result = stats.bootstrap((values,), statistic, confidence_level=CONFIDENCE,
                             n_resamples=RESAMPLES, method="percentile",
                             rng=np.random.default_rng(0))
    interval = result.confidence_interval
    return Estimate(point, float(interval.low), float(interval.high), int(values.size))


def interquartile_mean(values) -> float:
    """Mean of the middle half of the seeds (robust to a few outlying seeds)."""
    values = np.asarray(values, dtype=float)
    return float(stats.trim_mean(values[~np.isnan(values)], 0.25))


def probability_of_improvement(variant, baseline) -> float:
    """P(a random seed of `variant` scores above one of `baseline`), ties counting half."""
    variant, baseline = np.asarray(variant, float), np.asarray(baseline, float)
    greater = (variant[:, None] > baseline[None, :]).mean()
    ties = (variant[:, None] == baseline[None, :]).mean()
    return float(greater + ties / 2)


def compare(runs: pd.DataFrame, baseline: str, column: str = "eval_accuracy") -> pd.DataFrame:
    """Every variant against the baseline on `column`: U test, Holm-adjusted p, P(improvement)."""
    reference = runs.loc[runs["variant"] == baseline, column].to_numpy(float)
    rows = []
    for variant, group in runs.groupby("variant", sort=False):
        if variant == baseline:
            continue
        values = group[column].to_numpy(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            test = stats.mannwhitneyu(values, reference, alternative="two-sided")
        p = float(test.pvalue) if np.isfinite(test.pvalue) else 1.0
        rows.append({"variant": variant, "n": len(values), "n_baseline": len(reference),
                     "difference": float(np.mean(values) - np.mean(reference)),
                     "u": float(test.statistic), "p": p,
                     "improvement": probability_of_improvement(values, reference)})
    table = pd.DataFrame(rows, columns=["variant", "n", "n_baseline", "difference", "u", "p",
                                        "improvement"])
    table["p_holm"] = multipletests(table["p"], method="holm")[1] if len(table) else []
    table["finding"] = [finding(row, baseline) for row in table.itertuples()]
    return table


def finding(row, baseline: str) -> str:
    """The comparison in words, no stronger than the test allows."""
    if row.p_holm >= ALPHA:
        return (f"no detectable difference from {baseline} at n = {row.n} vs {row.n_baseline} "
                f"(Holm p = {row.p_holm:.3g})")
    direction = "higher" if row.difference > 0 else "lower"
    return (f"{direction} than {baseline} by {abs(row.difference):.3f} (Holm p = {row.p_holm:.3g}; "
            f"a random seed beats one of {baseline} with probability {row.improvement:.2f})")


def units_needed(runs: pd.DataFrame, learned: float, share: float,
                 resamples: int = RESAMPLES) -> pd.DataFrame:
    """Per lag, the fewest units with which at least `share` of the seeds reach `learned`
    held-out accuracy, with a 95% percentile bootstrap interval.

    Seeds are resampled together across a lag's sizes (a seed sees the same sequences at
    every size); a resample in which no size is enough counts as above the largest, shown
    as inf. The share of seeds that learned at the chosen size is given too.
    """
    rng = np.random.default_rng(0)
    rows = []
    for lag, group in runs.groupby("lag"):
        table = group.pivot_table(index="seed", columns="units", values="eval_accuracy")
        sizes = table.columns.to_numpy(float)
        reached = (table.to_numpy() >= learned)
        point = _fewest(reached.mean(axis=0, keepdims=True), sizes, share)[0]
        picks = rng.integers(0, len(reached), size=(resamples, len(reached)))
        needed = _fewest(reached[picks].mean(axis=1), sizes, share)
        low, high = np.percentile(needed, [100 * (1 - CONFIDENCE) / 2, 100 * (1 + CONFIDENCE) / 2],
                                  method="lower")
        at = reached[:, sizes == point].sum() if np.isfinite(point) else 0
        rows.append({"lag": int(lag), "units_needed": point, "low": low, "high": high,
                     "seeds_learned": int(at), "seeds": len(reached)})
    return pd.DataFrame(rows)


def _fewest(shares: np.ndarray, sizes: np.ndarray, share: float) -> np.ndarray:
    """For each row of shares (one per size), the smallest size whose share is enough (inf if none)."""
    enough = shares >= share
    first = np.where(enough.any(axis=1), enough.argmax(axis=1), -1)
    return np.where(first >= 0, sizes[np.maximum(first, 0)], np.inf)
