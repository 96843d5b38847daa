"""Statistics against exact values on small hand-made arrays, and against scipy and
statsmodels where they compute the same thing."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from bench.stats.estimates import (
    NO_SEEDS,
    Estimate,
    decide,
    holm,
    holm_levels,
    improvement,
    interquartile_mean,
    judge_claim,
    mean_interval,
    median_epochs,
    paired_t_p,
    share_interval,
    sign_flip_p,
)
from echo.experiment import Contrast


def test_one_seed_gets_no_interval_and_identical_seeds_a_point():
    assert np.isnan(mean_interval([0.7]).low) and np.isnan(mean_interval([0.7]).high)
    assert mean_interval([1.0, 1.0, 1.0]) == Estimate(1.0, 1.0, 1.0, 3)


def test_mean_interval_is_scipys_t_interval_and_accuracies_are_cut_to_one():
    values = np.array([0.91, 0.95, 0.97, 0.99, 0.995])
    expected = stats.ttest_1samp(values, 0.0).confidence_interval(0.95)
    estimate = mean_interval(values)
    assert estimate.low == pytest.approx(expected.low) and estimate.high == pytest.approx(expected.high)
    assert mean_interval(values, bounds=(0, 1)).high == 1.0


def test_interquartile_mean_ignores_outlying_seeds():
    assert interquartile_mean([0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 10.0]) == 0.5


def test_holm_by_hand_and_as_statsmodels_computes_it():
    p = [0.01, 0.04, 0.03]
    np.testing.assert_allclose(holm(p), [0.03, 0.06, 0.06])
    # Holm rejects 0.01 at 0.05/3, keeps 0.03 at 0.05/2 and stops: 0.04 is held to 0.05/2 too.
    np.testing.assert_allclose(holm_levels(p), [0.05 / 3, 0.05 / 2, 0.05 / 2])
    many = np.random.default_rng(3).uniform(0, 0.2, 9)
    np.testing.assert_allclose(holm(many), multipletests(many, method="holm")[1])


def test_sign_flip_test_is_exact():
    # 8 sign patterns of (1, 2, 3); only all-plus and all-minus reach |mean| 2.
    assert sign_flip_p([1.0, 2.0, 3.0]) == pytest.approx(2 / 8)
    assert sign_flip_p([0.0, 0.0]) == 1.0


def test_paired_t_is_scipys_paired_test():
    a, b = np.array([0.90, 0.93, 0.95, 0.97]), np.array([0.89, 0.90, 0.95, 0.93])
    assert paired_t_p(a - b) == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert paired_t_p([0.01, 0.01, 0.01]) == 0.0 and paired_t_p([0.0, 0.0]) == 1.0


def test_improvement_counts_ties_half_with_wilsons_interval():
    estimate = improvement([0.1, 0.0, -0.1, 0.2])
    assert estimate.value == pytest.approx((2 + 0.5) / 4)
    low, high = proportion_confint(7, 10, alpha=0.05, method="wilson")
    wins = improvement([1] * 7 + [-1] * 3)
    assert (wins.low, wins.high) == pytest.approx((low, high))


def test_share_interval_is_clopper_pearson():
    ten = share_interval(10, 10)
    assert ten.value == 1.0 and ten.low == pytest.approx(0.025 ** (1 / 10)) and ten.high == 1.0
    low, high = proportion_confint(6, 10, alpha=0.05, method="beta")
    assert (share_interval(6, 10).low, share_interval(6, 10).high) == pytest.approx((low, high))


def test_median_epochs_treats_seeds_that_never_learn_as_censored():
    # Survival 3/4 after 100, 2/4 after 200: the median is 200; dropping the censored
    # seeds would have given 150.
    assert median_epochs([100, 200, np.nan, np.nan], [2000] * 4).value == 200
    assert np.isnan(median_epochs([100, np.nan, np.nan], [2000] * 3).value)
    assert median_epochs([300, 100, 200], [2000] * 3).value == 200


def paired(reference, **variants):
    rows = [("ref", seed, value) for seed, value in enumerate(reference)]
    for name, values in variants.items():
        rows += [(name, seed, value) for seed, value in enumerate(values)]
    return pd.DataFrame(rows, columns=["variant", "seed", "eval_accuracy"])


def test_contrasts_are_decided_from_their_intervals():
    rng = np.random.default_rng(7)
    reference = rng.uniform(0.90, 0.99, 12)
    runs = paired(reference, better=reference + 0.01 + rng.normal(0, 0.001, 12),
                  same=reference + rng.normal(0, 0.0002, 12),
                  noisy=reference + 0.001 + rng.normal(0, 0.004, 12), one=reference[:1])
    contrasts = [Contrast(v, "ref") for v in ("better", "same", "noisy", "one")]
    decisions = {d.variant: d for d in decide(runs, contrasts)}
    assert decisions["better"].verdict == "better" and decisions["better"].difference.low > 0
    assert decisions["better"].improvement.value == 1.0
    assert decisions["same"].verdict == "equivalent"
    assert -0.002 < decisions["same"].equivalence.low < decisions["same"].equivalence.high < 0.002
    noisy = decisions["noisy"]
    assert noisy.verdict == "undecided" and noisy.difference.low < 0 < noisy.difference.high
    assert noisy.seeds_needed > 12
    assert decisions["one"].n == 1 and decisions["one"].verdict == "undecided"
    p = [d.p for d in decisions.values()]
    np.testing.assert_allclose([d.p_holm for d in decisions.values()], holm(p))
    for d in decisions.values():  # an interval excludes 0 exactly when Holm rejects
        if d.n > 1:
            assert (d.difference.low > 0 or d.difference.high < 0) == (d.p_holm < 0.05)


def test_a_difference_of_accuracies_is_never_given_an_interval_beyond_plus_or_minus_one():
    runs = paired(np.array([0.1, 0.9]), wide=np.array([0.9, 0.2]))  # two seeds, far apart
    decision = decide(runs, [Contrast("wide", "ref")])[0]
    t = mean_interval(np.array([0.8, -0.7]))  # scipy's t interval: about +-9.6
    assert t.low < -1 and t.high > 1
    assert (decision.difference.low, decision.difference.high) == (-1.0, 1.0)
    assert decision.difference.value == pytest.approx(0.05) and decision.verdict == "undecided"


def test_the_seeds_needed_would_decide_a_contrast_whose_mean_and_spread_stay():
    reference = np.linspace(0.90, 0.99, 10)
    d = np.array([0.010, -0.008, 0.004, 0.006, -0.002, 0.009, -0.005, 0.003, 0.001, 0.002])
    decision = decide(paired(reference, v=reference + d), [Contrast("v", "ref")])[0]
    assert decision.verdict == "undecided"
    n = decision.seeds_needed
    spread = np.std(d, ddof=1)

    def excludes_zero(seeds):
        return abs(d.mean()) > stats.t.ppf(0.975, seeds - 1) * spread / np.sqrt(seeds)

    assert excludes_zero(n) and not excludes_zero(n - 1)


def test_claims_are_judged_by_their_interval_and_a_zero_claim_against_chance():
    assert judge_claim([1.0] * 10, 1.0, 0.002).verdict == "holds"
    ceiling = judge_claim(np.linspace(0.995, 0.997, 10), 1.0, 0.002)
    assert ceiling.verdict == "fails" and ceiling.position == "below"
    rng = np.random.default_rng(2)
    at_chance = judge_claim(0.0102 + rng.normal(0, 0.0015, 10), 0.0, 0.002, chance=0.01)
    assert at_chance.verdict == "fails" and at_chance.against_chance == "inside"
    assert judge_claim([0.99, 1.0], 1.0, 0.002).verdict == "undecided"


def test_a_significant_difference_is_worded_by_its_size_against_delta():
    """Exact differences (a symmetric spread around a set mean): beyond δ, inside ±δ, across δ."""
    reference = np.linspace(0.90, 0.99, 10)
    spread = np.array([-1, 1] * 5, float)
    runs = paired(reference, large=reference + 0.02 + 0.001 * spread,
                  tiny=reference - 0.001 + 0.0001 * spread,
                  unsure=reference + 0.003 + 0.002 * spread)
    decisions = {d.variant: d for d in decide(runs, [Contrast(v, "ref") for v in
                                                     ("large", "tiny", "unsure")])}
    large, tiny, unsure = decisions["large"], decisions["tiny"], decisions["unsure"]
    assert (large.verdict, large.size) == ("better", "beyond")
    assert large.difference.low > 0.002
    assert (tiny.verdict, tiny.size) == ("worse", "negligible")
    assert -0.002 < tiny.equivalence.low < tiny.equivalence.high < 0.002
    assert (unsure.verdict, unsure.size) == ("better", "unsettled")
    assert unsure.difference.low < 0.002 < unsure.difference.high
    assert [d.open for d in (large, tiny, unsure)] == [False, False, True]
    # by hand: the t interval at Holm's level for its rank among the three p values
    rank = sorted(decisions, key=lambda v: decisions[v].p).index("unsure")
    sd = 0.002 * np.sqrt(10 / 9)
    half = stats.t.ppf(1 - 0.05 / (3 - rank) / 2, 9) * sd / np.sqrt(10)
    assert unsure.difference.value == pytest.approx(0.003)
    assert unsure.difference.low == pytest.approx(0.003 - half)


def test_one_formatter_writes_every_interval():
    from bench.report.wording import estimate_text

    nan = float("nan")
    assert estimate_text(Estimate(0.5, 0.25, 0.75, 10)) == "0.5000 [0.2500, 0.7500]"
    assert estimate_text(Estimate(0.5, 0.25, 0.75, 10), "{:+.2f}", count=True) == \
        "+0.50 [+0.25, +0.75] (n = 10)"
    assert estimate_text(Estimate(1200.0, 900.0, nan, 8), "{:.0f}") == "1200 [900, -]"
    assert estimate_text(Estimate(0.7, nan, nan, 1)) == "0.7000 (n = 1, no interval)"
    assert estimate_text(Estimate(nan, nan, nan, 5)) == "-" == estimate_text(NO_SEEDS)


def test_the_share_seeds_show_is_the_exact_one_sided_lower_bound():
    from bench.stats.estimates import seeds_to_show, share_shown

    for k, n in [(10, 10), (8, 10), (1, 5), (14, 14)]:
        exact = stats.binomtest(k, n, alternative="greater").proportion_ci(0.95, "exact").low
        assert share_shown(k, n) == pytest.approx(exact)
    assert share_shown(0, 10) == 0.0
    assert seeds_to_show(0.8) == 14 and share_shown(14, 14) >= 0.8 > share_shown(13, 13)
