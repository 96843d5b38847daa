"""Score figures fit their axis to the scores and draw a grid as panels, not one long strip."""

import pandas as pd
import pytest

from bench.report import figures


def test_the_score_axis_fits_the_scores_and_shows_chance_only_within_it():
    near_one = pd.Series([0.996, 0.998, 0.999])
    low, high = figures.score_limits(near_one)
    assert low == pytest.approx(0.996 - 0.002) and high == pytest.approx(1 + 0.002 / 4)
    assert figures.score_limits(pd.Series([1.0, 1.0])) == pytest.approx((0.998, 1.0005))
    assert not figures.chance_shown(near_one, 0.01)
    spread = pd.Series([0.0, 1.0])
    assert figures.score_limits(spread) == (-0.02, 1.02) and figures.chance_shown(spread, 0.01)
    assert not figures.chance_shown(spread, None)


def test_a_grid_of_scores_has_a_panel_per_lag_and_a_colour_per_cell(tmp_path):
    runs = pd.DataFrame([{"lag": lag, "units": units, "cell": cell, "seed": seed,
                          "eval_accuracy": 0.5 + 0.1 * seed}
                         for lag in (1, 2, 3) for units in (8, 32) for cell in ("lstm", "simple_rnn")
                         for seed in range(3)])
    grid = figures.grid_scores(runs, tmp_path / "scores.png", "units", chance=0.01)
    assert [axis.get_title() for axis in grid.axes.flat] == ["lag 1", "lag 2", "lag 3"]
    assert [t.get_text() for t in grid.legend.texts] == ["LSTM", "SimpleRNN"]
    assert grid.axes.flat[0].get_ylim() == pytest.approx(figures.score_limits(runs["eval_accuracy"]))
    assert (tmp_path / "scores.png").stat().st_size > 0
