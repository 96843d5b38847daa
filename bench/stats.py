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
