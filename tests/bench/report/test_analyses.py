"""Each analysis kind an experiment may declare: its section, answer, figures and scorecard part,
on runs made up so that the right answer is known."""

import numpy as np
import pandas as pd
import pytest

from bench.report.analyses import (
    Analysis,
    LagGridAnalysis,
    LagProfileAnalysis,
    TuningCurveAnalysis,
    UnitsNeededAnalysis,
    analysis_of,
)
from echo.experiment import LagGrid, LagProfile, TuningCurve, UnitsNeeded, at_rate
from experiments import discover

REGISTRY = discover()  # the declared experiments, by name

SEEDS = range(5)
PROTOCOL = {"stateful": False, "cell": "lstm", "framing": "lag_with_window", "epochs": 2000,
            "learning_rate": 0.001}


def grid(accuracy, lags=(1, 2), sizes=(5, 50), window=9, **settings) -> pd.DataFrame:
    """Runs of every lag, size and seed, held-out accuracy `accuracy(lag, units, seed)`."""
    return pd.DataFrame([{**PROTOCOL, **settings, "variant": f"lag{lag}-units{units}",
                          "seed": seed, "lag": lag, "units": units, "window": window,
                          "eval_accuracy": accuracy(lag, units, seed)}
                         for lag in lags for units in sizes for seed in SEEDS])


def near(value):
    """A seed's accuracy close to `value`, the seeds a little apart (a finite interval)."""
    return lambda lag, units, seed: value(lag, units) + 1e-4 * (seed - 2)


def test_each_declaration_chooses_its_class_and_none_has_no_analysis():
    assert type(analysis_of(LagGrid(), REGISTRY)) is LagGridAnalysis
    assert type(analysis_of(UnitsNeeded(), REGISTRY)) is UnitsNeededAnalysis
    assert type(analysis_of(LagProfile(), REGISTRY)) is LagProfileAnalysis
    assert type(analysis_of(TuningCurve("cell-type"), REGISTRY)) is TuningCurveAnalysis
    assert analysis_of(None, REGISTRY) is None
    assert analysis_of(UnitsNeeded(learned=0.5), REGISTRY).declared == UnitsNeeded(learned=0.5)


def test_a_lag_grid_learns_the_cells_whose_whole_interval_is_above_99_percent():
    runs = grid(near(lambda lag, units: 0.999 if (lag, units) != (2, 5) else 0.5))
    analysis = LagGridAnalysis(LagGrid(), REGISTRY)
    answer = analysis.answer(runs)
    assert answer.startswith("at stateless LSTM, window 9, 2000 epochs, Adam 0.001: ")
    assert "50 units: lag 1, 2; 5 units: lag 1." in answer
    section = analysis.section(runs)
    assert section[4] == "| lag | 5 units | 50 units |"
    assert section[6].startswith("| 1 | **0.999") and section[7].startswith("| 2 | 0.500")


def test_units_needed_is_the_fewest_units_with_enough_seeds_and_beyond_the_largest_shows():
    runs = grid(lambda lag, units, seed: 1.0 if lag == 1 or seed == 0 else 0.2)
    analysis = UnitsNeededAnalysis(UnitsNeeded(learned=0.99, share=0.8), REGISTRY)
    answer = analysis.answer(runs)
    assert "lag 1: 5 [5, 5] (5 of 5, >= 0.48)" in answer
    assert "lag 2: > 50 [> 50, > 50] (0 of 5, >= 0.00)" in answer
    card = analysis.subsection(runs)
    assert card[0] == "### Units needed" and analysis.section(runs)[0] == "## Units needed"


def test_a_lag_profile_has_a_column_per_epoch_budget_and_a_dash_where_a_lag_was_not_run():
    runs = pd.concat([grid(near(lambda lag, units: 0.999), sizes=(50,)),
                      grid(near(lambda lag, units: 0.3), lags=(2,), sizes=(50,), epochs=5000)])
    analysis = LagProfileAnalysis(LagProfile(), REGISTRY)
    section = analysis.section(runs)
    assert section[4] == "| lag | 2000 epochs | 5000 epochs |"
    assert section[6].endswith(" | - |") and "0.300" in section[7]
    answer = analysis.answer(runs)
    assert "2000 epochs: learned lag 1, 2" in answer and "5000 epochs: learned none" in answer
    assert "several epoch budgets" in answer


def tuning_runs(best: dict[str, float], rates=(3e-4, 1e-3, 3e-3, 1e-2)) -> pd.DataFrame:
    """Tuning runs of cell-type's variants, each scoring highest at its rate in `best`."""

    variants = REGISTRY["cell-type"].variants
    return pd.DataFrame([{"variant": at_rate(v, rate), "seed": 1_000_000 + seed,
                          "learning_rate": rate,
                          "eval_accuracy": 0.9 - abs(np.log10(rate / best.get(v, 1e-3))) / 10
                          + 1e-3 * seed}
                         for v in variants for rate in rates for seed in range(3)])


def test_a_tuning_curve_chooses_each_variants_best_rate_and_bolds_it():
    runs = tuning_runs({"gru-lag8": 1e-2, "lstm-lag1": 3e-4})
    analysis = TuningCurveAnalysis(TuningCurve("cell-type"), REGISTRY)
    answer = analysis.answer(runs)
    assert answer.startswith("learning rates chosen on 3 tuning seeds")
    assert "gru-lag8 0.01 (0.9010)" in answer and "lstm-lag1 0.0003 (0.9010)" in answer
    row = next(line for line in analysis.section(runs) if line.startswith("| gru-lag8 |"))
    assert row.split(" | ")[-1].startswith("**0.9010")
    assert analysis.subsection(runs) == []


def test_an_incomplete_tuning_budget_chooses_nothing():
    runs = tuning_runs({})
    short = runs[~((runs["variant"] == at_rate("gru-lag8", 1e-2)) & (runs["seed"] == 1_000_002))]
    assert "not complete" in TuningCurveAnalysis(TuningCurve("cell-type"), REGISTRY).answer(short)


@pytest.mark.parametrize("declared, runs", [
    (LagGrid(), grid(near(lambda lag, units: 0.9))),
    (UnitsNeeded(), grid(near(lambda lag, units: 0.9))),
    (LagProfile(), grid(near(lambda lag, units: 0.9), sizes=(50,))),
    (TuningCurve("cell-type"), tuning_runs({})),
])
def test_every_kind_draws_the_figures_its_markdown_links(declared, runs, tmp_path):
    analysis = analysis_of(declared, REGISTRY)
    assert isinstance(analysis, Analysis)
    links = [line for line in analysis.draw(runs, tmp_path / "page", "page") if line]
    assert links
    for link in links:
        target = link[link.index("](") + 2:-1]
        assert (tmp_path / target).is_file()
