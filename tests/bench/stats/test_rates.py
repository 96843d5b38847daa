"""The learning rate as a factor: exact values on hand-made tables, and a simulation of two
identical variants over a rate grid where one rate collapses a third of the seeds."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bench.stats.estimates import Decision, Estimate, Size, Verdict, holm
from bench.stats.rates import (
    LEARNS,
    Robustness,
    across_rates,
    by_rate,
    choose_rate,
    collapse,
    contradict,
    cross_fit,
    tuned,
)
from echo.experiment import RATES, Contrast, at_rate, declared_variant


def grid(scores: dict) -> pd.DataFrame:
    """Runs from {(variant, rate): per-seed accuracies}, named as a rate grid names them (the
    protocol's 1e-3 plain)."""
    rows = [{"variant": v if rate == 1e-3 else at_rate(v, rate), "learning_rate": rate,
             "seed": seed, "eval_accuracy": float(a)}
            for (v, rate), values in scores.items() for seed, a in enumerate(values)]
    return pd.DataFrame(rows)


def test_a_run_at_another_rate_is_read_as_its_declared_variant_at_that_rate():
    assert declared_variant("lstm[learning_rate=0.01][cell=m:C]") == "lstm[cell=m:C]"
    table = by_rate(grid({("a", 1e-3): [0.9, 0.8], ("a", 1e-2): [0.5, 0.4]}))
    assert list(table.columns) == [("a", 1e-3), ("a", 1e-2)]
    assert table["a", 1e-2].tolist() == [0.5, 0.4]


def decision(verdict, low, high, delta=0.002):
    estimate = Estimate((low + high) / 2, low, high, 10)
    return Decision("a", "b", delta, 10, estimate, estimate, 0.01, 0.01, 0.01, estimate, verdict, None)


@pytest.mark.parametrize("a, b, contradicting", [
    ((Verdict.BETTER, 0.01, 0.03), (Verdict.WORSE, -0.03, -0.01), True),
    ((Verdict.BETTER, 0.01, 0.03), (Verdict.EQUIVALENT, -0.001, 0.001), True),
    ((Verdict.BETTER, 0.01, 0.03), (Verdict.BETTER, 0.0005, 0.001), True),  # negligibly better
    ((Verdict.BETTER, 0.01, 0.03), (Verdict.BETTER, 0.001, 0.004), False),  # size unsettled
    ((Verdict.BETTER, 0.01, 0.03), (Verdict.UNDECIDED, -0.01, 0.03), False),
    ((Verdict.EQUIVALENT, -0.001, 0.001), (Verdict.WORSE, -0.0015, -0.0005), False),
])
def test_two_decisions_contradict_when_no_one_effect_fits_both(a, b, contradicting):
    assert contradict(decision(*a), decision(*b)) is contradicting
    assert contradict(decision(*b), decision(*a)) is contradicting
    assert decision(Verdict.BETTER, 0.0005, 0.001).size == Size.NEGLIGIBLE


def test_the_protocols_rate_is_kept_unless_another_beats_it_by_more_than_delta():
    scores = pd.DataFrame({1e-3: [0.990, 0.992, 0.991], 3e-3: [0.992, 0.994, 0.993]})
    assert choose_rate(scores, 1e-3, 0.002) == 1e-3  # medians 0.991 and 0.993: by 0.002
    assert choose_rate(scores, 1e-3, 0.001) == 3e-3
    assert choose_rate(scores.drop(columns=1e-3), 1e-3, 0.002) == 3e-3  # its own not run


def test_cross_fitting_scores_each_fold_at_the_rate_the_other_folds_chose():
    scores = pd.DataFrame({1e-3: [0.90, 0.95, 0.95, 0.95, 0.95, 0.95],
                           1e-2: [1.00, 0.99, 0.99, 0.40, 0.99, 0.99]}, index=range(6))
    fitted = cross_fit(scores, "a", 1e-3, 0.002, folds=3)
    assert fitted.folds == ((0, 3), (1, 4), (2, 5))
    # without (0, 3) the medians are 0.95 and 0.99: 1e-2; without (1, 4): 0.95 and 0.995 -> 1e-2
    assert fitted.choices == (1e-2, 1e-2, 1e-2)
    assert fitted.scores.tolist() == [1.00, 0.99, 0.99, 0.40, 0.99, 0.99]
    alone = cross_fit(scores.iloc[:1], "a", 1e-3, 0.002)
    assert alone.scores.empty and alone.choices == ()


def test_collapse_is_counted_below_the_best_rates_median_with_an_exact_interval():
    table = pd.DataFrame({1e-3: [0.99, 0.98, 0.99, 0.97], 1e-2: [0.99, 0.40, 0.30, 0.99]})
    found = collapse(table, "a")
    assert (found.best_rate, found.best_median) == (1e-3, 0.985)
    share = found.shares[1e-2]
    exact = stats.binomtest(2, 4).proportion_ci(0.95, method="exact")
    assert (share.value, share.n) == (0.5, 4)
    assert (share.low, share.high) == pytest.approx((exact.low, exact.high))
    assert found.shares[1e-3].value == 0.0


def test_robustness_names_two_contradicting_rates_and_leaves_out_rates_where_neither_learns():
    base = np.linspace(0.90, 0.99, 10)
    noise = np.array([-1, 1] * 5) * 0.0005
    runs = grid({("a", 1e-3): base + 0.02 + noise, ("b", 1e-3): base,
                 ("a", 1e-2): base - 0.03 + noise, ("b", 1e-2): base,
                 ("a", 3e-4): base * 0.01 + noise, ("b", 3e-4): base * 0.01})
    found = across_rates(runs, [Contrast("a", "b")])[0]
    assert [(row.rate, row.decision.verdict, row.learns) for row in found.rows] == [
        (3e-4, Verdict.EQUIVALENT, False), (1e-3, Verdict.BETTER, True), (1e-2, Verdict.WORSE, True)]
    assert found.robustness == Robustness.DEPENDS
    assert [row.rate for row in found.conflict] == [1e-3, 1e-2]
    # one Holm family over the table's three cells
    np.testing.assert_allclose([row.decision.p_holm for row in found.rows],
                               holm([row.decision.p for row in found.rows]))
    only_a = across_rates(runs[runs["learning_rate"] != 1e-2], [Contrast("a", "b")])[0]
    assert only_a.robustness == Robustness.HOLDS
    nowhere = across_rates(runs[runs["learning_rate"] == 3e-4], [Contrast("a", "b")])[0]
    assert nowhere.robustness == Robustness.NEITHER and LEARNS > 0.0099


def simulated(rng, seeds=10, collapsing=1e-2):
    """Two identical variants over RATES: near the ceiling with a seed effect they share, and
    at `collapsing` a third of the seeds (per variant) at 0.3-0.5."""
    seed_effect = rng.normal(0, 0.003, seeds)
    scores = {}
    for variant in ("a", "b"):
        for rate in RATES:
            values = np.minimum(1.0, 0.99 + seed_effect + rng.normal(0, 0.003, seeds))
            if rate == collapsing:
                fallen = rng.random(seeds) < 1 / 3
                values[fallen] = rng.uniform(0.3, 0.5, fallen.sum())
            scores[variant, rate] = values
    return grid(scores)


@pytest.mark.slow
def test_identical_variants_are_called_different_or_rate_dependent_at_most_at_the_nominal_level():
    rng = np.random.default_rng(35)
    trials, contrast, own = 400, [Contrast("a", "b")], {"a": 1e-3, "b": 1e-3}
    tuned_false, depends = 0, 0
    for _ in range(trials):
        runs = simulated(rng)
        _, (decided,) = tuned(runs, contrast, own)
        tuned_false += decided.verdict in (Verdict.BETTER, Verdict.WORSE)
        depends += across_rates(runs, contrast, details=False)[0].robustness == Robustness.DEPENDS
    for count in (tuned_false, depends):  # not shown above 5% (one-sided exact test at 1%)
        assert stats.binomtest(count, trials, 0.05, alternative="greater").pvalue > 0.01


def test_a_tuned_contrast_is_decided_by_permuting_the_whole_procedure():
    rng = np.random.default_rng(3)
    base = {rate: 0.95 + rng.normal(0, 0.002, 10) for rate in RATES}
    runs = grid({**{("a", r): v + 0.02 for r, v in base.items()},
                 **{("b", r): v for r, v in base.items()}})
    fitted, (decided,) = tuned(runs, [Contrast("a", "b")], {"a": 1e-3, "b": 1e-3})
    assert decided.verdict == Verdict.BETTER and decided.size == Size.BEYOND
    assert decided.p == pytest.approx(2 / 2 ** 10)  # only no swap and every swap are as far out
    assert decided.difference.value == pytest.approx(0.02)
    assert decided.difference.low > 0 and fitted["a"].choices == (1e-3,) * 5
    identical = grid({**{("a", r): v for r, v in base.items()}, **{("b", r): v for r, v in base.items()}})
    _, (none,) = tuned(identical, [Contrast("a", "b")], {"a": 1e-3, "b": 1e-3})
    assert none.verdict == Verdict.EQUIVALENT and none.p == 1.0
