"""Seeds until decided: looking after every round must not inflate false positives. A simulation
on synthetic paired data (no training) under the null, where the procedure keeps looking."""

import numpy as np
import pandas as pd
import pytest

from bench.run.rounds import Schedule
from bench.stats.estimates import ALPHA, decide
from echo.experiment import Contrast

SCHEDULE = Schedule(first=10, round=10, most=50)
# No margin of equivalence: the null never stops early, every look is taken (the worst case).
NEVER_EQUIVALENT = [Contrast("variant", "reference", delta=1e-12)]


def false_positive_rate(alpha: float, simulations: int, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    seeds = np.arange(SCHEDULE.most)
    false = 0
    for _ in range(simulations):
        reference = rng.normal(0.997, 0.001, SCHEDULE.most)
        variant = reference + rng.normal(0.0, 0.0012, SCHEDULE.most)  # no true difference
        runs = pd.DataFrame({"variant": ["reference"] * SCHEDULE.most + ["variant"] * SCHEDULE.most,
                             "seed": np.r_[seeds, seeds], "eval_accuracy": np.r_[reference, variant]})
        for target in SCHEDULE.targets():
            decision = decide(runs[runs["seed"] < target], NEVER_EQUIVALENT, alpha=alpha,
                              details=False)[0]
            if decision.verdict in ("better", "worse"):
                false += 1
                break
    return false / simulations


def test_the_schedule_looks_at_each_round_and_spends_alpha_over_its_looks():
    assert SCHEDULE.targets() == [10, 20, 30, 40, 50] and SCHEDULE.alpha == ALPHA / 5
    assert Schedule(8, 10, 8).targets() == [8] and Schedule(2, 3, 8).targets() == [2, 5, 8]


@pytest.mark.slow
def test_repeated_looks_keep_the_false_positive_rate_at_its_nominal_level():
    simulations = 500
    corrected = false_positive_rate(SCHEDULE.alpha, simulations)
    naive = false_positive_rate(ALPHA, simulations)
    # Monte Carlo standard error at 5% and 500 simulations is about 1%.
    assert corrected <= ALPHA + 0.02
    assert naive > corrected and naive > ALPHA + 0.02  # looking five times at 5% inflates it


def test_a_units_needed_grid_asks_for_seeds_until_the_share_is_shown_where_seeds_learn():
    from bench.run.rounds import open_questions
    from echo.experiment import Experiment, UnitsNeeded
    from echo.setup import Setup

    experiment = Experiment("grid", "?", {"lag1-units5": Setup()}, analysis=UnitsNeeded(share=0.8))

    def runs(seeds):
        return pd.DataFrame([{"variant": f"lag{lag}-units5", "seed": seed, "lag": lag, "units": 5,
                              "learning_rate": 1e-3, "cell": "lstm",
                              "eval_accuracy": 1.0 if lag == 1 or seed < 2 else 0.3}
                             for lag in (1, 2) for seed in range(seeds)])

    assert open_questions(runs(10), experiment, ALPHA) == [
        "units needed at lag 1 (LSTM: 10 of 10 learned at 5, >= 0.74 shown)"]  # lag 2: 2 of 10, no
    assert open_questions(runs(14), experiment, ALPHA) == []
