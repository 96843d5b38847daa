import numpy as np
import pandas as pd

from bench.stats import bootstrap, compare, interquartile_mean, probability_of_improvement


def test_bootstrap_interval_contains_the_mean_and_is_repeatable():
    values = np.random.default_rng(0).normal(0.5, 0.1, 12)
    first, second = bootstrap(values), bootstrap(values)
    assert first == second
    assert first.low < first.value < first.high and first.n == 12


def test_identical_seeds_give_a_point_interval():
    assert bootstrap([1.0, 1.0, 1.0]) == bootstrap([1.0, 1.0, 1.0])
    estimate = bootstrap([1.0, 1.0, 1.0])
    assert estimate.low == estimate.high == 1.0


def test_interquartile_mean_ignores_outlying_seeds():
    assert interquartile_mean([0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 10.0]) == 0.5


def test_probability_of_improvement_counts_ties_half():
    assert probability_of_improvement([2, 2], [1, 1]) == 1.0
    assert probability_of_improvement([1, 1], [1, 1]) == 0.5
    assert probability_of_improvement([0, 2], [1]) == 0.5


def test_compare_finds_a_clear_difference_and_words_a_null_one_carefully():
    rng = np.random.default_rng(1)
    runs = pd.DataFrame({
        "variant": ["base"] * 10 + ["better"] * 10 + ["same"] * 10,
        "eval_accuracy": np.r_[rng.normal(0.5, 0.01, 10), rng.normal(0.9, 0.01, 10),
                               rng.normal(0.5, 0.01, 10)],
    })
    table = compare(runs, "base").set_index("variant")
    assert table.loc["better", "p_holm"] < 0.001 and table.loc["better", "improvement"] == 1.0
    assert table.loc["better", "finding"].startswith("higher than base")
    assert table.loc["same", "finding"].startswith("no detectable difference from base at n = 10")
    assert table.loc["same", "p_holm"] >= table.loc["same", "p"]
