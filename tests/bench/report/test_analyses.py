"""Each analysis kind an experiment may declare: its section, answer, figures and scorecard part,
on runs made up so that the right answer is known."""

import pandas as pd
import pytest

from bench.report.analyses import (
    Analysis,
    DelayLineAnalysis,
    LagGridAnalysis,
    LagProfileAnalysis,
    UnitsNeededAnalysis,
    analysis_of,
    trainable_parameters,
)
from echo.experiment import DelayLine, LagGrid, LagProfile, UnitsNeeded
from experiments import capacity, delay_line

SEEDS = range(5)
PROTOCOL = {"stateful": False, "cell": "lstm", "framing": "lag_with_window", "epochs": 2000,
            "learning_rate": 0.001}


def grid(accuracy, lags=(1, 2), sizes=(5, 50), window=9, **settings) -> pd.DataFrame:
    """Runs of every lag, size and seed (every setting of capacity's but these), held-out
    accuracy `accuracy(lag, units, seed)`."""
    return pd.DataFrame([{**vars(capacity.windowed(lag, units)), **PROTOCOL, **settings,
                          "variant": f"lag{lag}-units{units}",
                          "seed": seed, "lag": lag, "units": units, "window": window,
                          "eval_accuracy": accuracy(lag, units, seed)}
                         for lag in lags for units in sizes for seed in SEEDS])


def near(value):
    """A seed's accuracy close to `value`, the seeds a little apart (a finite interval)."""
    return lambda lag, units, seed: value(lag, units) + 1e-4 * (seed - 2)


def test_each_declaration_chooses_its_class_and_none_has_no_analysis():
    assert type(analysis_of(LagGrid())) is LagGridAnalysis
    assert type(analysis_of(UnitsNeeded())) is UnitsNeededAnalysis
    assert type(analysis_of(LagProfile())) is LagProfileAnalysis
    assert type(analysis_of(DelayLine())) is DelayLineAnalysis
    assert analysis_of(None) is None
    assert analysis_of(UnitsNeeded(learned=0.5)).declared == UnitsNeeded(learned=0.5)


def test_a_lag_grid_learns_the_cells_whose_whole_interval_is_above_99_percent():
    runs = grid(near(lambda lag, units: 0.999 if (lag, units) != (2, 5) else 0.5))
    analysis = LagGridAnalysis(LagGrid())
    answer = analysis.answer(runs)
    assert answer.startswith("at stateless LSTM, window 9, 2000 epochs, Adam 0.001: ")
    assert "50 units: lag 1, 2; 5 units: lag 1." in answer
    section = analysis.section(runs)
    assert section[4] == "| lag | 5 units | 50 units |"
    assert section[6].startswith("| 1 | **0.999") and section[7].startswith("| 2 | 0.500")


def test_a_longer_lag_scoring_above_shorter_ones_is_flagged_with_what_sets_it_apart():
    scores = {1: 0.9, 2: 0.2, 3: 0.5}
    runs = grid(near(lambda lag, units: scores[lag]), lags=(1, 2, 3), window=4)
    section = LagGridAnalysis(LagGrid()).section(runs)
    assert section[-2] == ("**Out of order.** At 50 units lag 3 scores 0.50, above lags 2 (0.20): "
                           "at lag 3 the target is the window's oldest step (window 4 = lag + 1), "
                           "a different task from a target inside the window, which the "
                           "state-window experiment sets apart.")
    wider = LagGridAnalysis(LagGrid()).section(grid(near(lambda lag, units: scores[lag]),
                                                    lags=(1, 2, 3), window=9))
    assert wider[-2].endswith("; the runs do not say why: read it with care.")
    ordered = LagGridAnalysis(LagGrid()).section(grid(near(lambda lag, units: 1 / lag)))
    assert not any(line.startswith("**Out of order.**") for line in ordered)


def test_units_needed_is_the_fewest_units_with_enough_seeds_and_beyond_the_largest_shows():
    runs = grid(lambda lag, units, seed: 1.0 if lag == 1 or seed == 0 else 0.2)
    analysis = UnitsNeededAnalysis(UnitsNeeded(learned=0.99, share=0.5))
    answer = analysis.answer(runs)
    assert "lag 1: 5 [5, 5] (5 of 5 at 5 units, >= 0.55)" in answer  # 0.05 ** (1 / 5)
    assert "lag 2: > 50 [> 50, > 50] (1 of 5 at 5 units, >= 0.01)" in answer
    strict = UnitsNeededAnalysis(UnitsNeeded(learned=0.99, share=0.8)).answer(runs)
    assert "lag 1: > 50" in strict and "needs 14 of 14 seeds to reach 80%" in strict
    card = analysis.subsection(runs)
    assert card[0] == "### Units needed" and analysis.section(runs)[0] == "## Units needed"


def delay(accuracy, cells=("lstm", "gru"), lags=(1, 2), sizes=(8, 32)) -> pd.DataFrame:
    """Delay-line runs with every setting of the declared experiment, held-out accuracy
    `accuracy(cell, lag, units, seed)`."""
    return pd.DataFrame([{**vars(delay_line._setup(cell, lag, units)), "seed": seed,
                          "variant": f"{cell}-lag{lag}-units{units}",
                          "eval_accuracy": accuracy(cell, lag, units, seed)}
                         for cell in cells for lag in lags for units in sizes for seed in SEEDS])


def test_parameters_are_counted_from_the_built_model_exactly():
    # 4, 3 and 1 weight sets of u x (100 inputs + u) and a bias (GRU: two), then the softmax head.
    head = 8 * 100 + 100
    assert trainable_parameters(delay_line._setup("lstm", 3, 8)) == 4 * (8 * 108 + 8) + head
    assert trainable_parameters(delay_line._setup("gru", 3, 8)) == 3 * (8 * 108 + 16) + head
    assert trainable_parameters(delay_line._setup("simple_rnn", 3, 8)) == 8 * 108 + 8 + head


def test_a_delay_line_gives_units_and_parameters_needed_per_cell_beside_the_bits_held():
    runs = delay(lambda cell, lag, units, seed: 1.0 if cell == "lstm" or lag == 1 else 0.3)
    analysis = DelayLineAnalysis(DelayLine(learned=0.99, share=0.5))
    section = analysis.section(runs)
    lstm = 4 * (8 * 108 + 8) + 900
    assert f"| LSTM | 2 | 8 [8, 8] | {lstm} | 13.3 | {2 * 6.6439 / lstm:.2g} | 5 of 5 at 8 units |" \
        in section
    assert "| GRU | 2 | > 32 [> 32, > 32] | > " in "\n".join(section)
    assert "| - | none of 5 at any size |" in "\n".join(section)  # not 'at 8 units', where none did
    assert f"LSTM held k = 2 with 8 units (4 per value) and {2 * 6.6439 / lstm:.2g} bits per " \
        "parameter; GRU held k = 1" in section[-2]
    answer = analysis.answer(runs)
    assert "LSTM holds up to k = 2 (8 units); GRU holds up to k = 1 (8 units)" in answer
    assert answer.startswith("at stateless recurrent layer, pieces of 25 fed whole, 3000 epochs, "
                             "Adam 0.01")


def test_units_needed_is_found_per_cell_with_the_parameters_of_the_model_there(tmp_path):
    lstm = grid(lambda lag, units, seed: 1.0 if units == 5 or lag == 1 else 0.2, sizes=(5, 8))
    gru = lstm.assign(cell="gru", eval_accuracy=lstm["units"].map({5: 0.2, 8: 1.0}),
                      variant="gru-" + lstm["variant"])
    runs = pd.concat([lstm, gru], ignore_index=True)
    analysis = UnitsNeededAnalysis(UnitsNeeded(learned=0.99, share=0.5))
    answer = analysis.answer(runs)
    assert "LSTM: lag 1: 5 [5, 5] (5 of 5 at 5 units, >= 0.55), lag 2: 5 [5, 5]" in answer
    assert "; GRU: lag 1: 8 [8, 8] (5 of 5 at 8 units, >= 0.55), lag 2: 8 [8, 8]" in answer
    head = 5 * 100 + 100
    assert f"| LSTM | 1 | 5 [5, 5] | {4 * (5 * 105 + 5) + head} | 5 of 5 at 5 units | >= 0.55 |" \
        in analysis.section(runs)
    links = analysis.draw(runs, tmp_path, "page")
    assert "![share of seeds reaching 99% held-out accuracy, by lag and units, GRU](page/heatmap-GRU.png)" \
        in links and (tmp_path / "heatmap-LSTM.png").is_file() and (tmp_path / "units-needed.png").is_file()


def test_a_lag_profile_has_a_column_per_epoch_budget_and_a_dash_where_a_lag_was_not_run():
    runs = pd.concat([grid(near(lambda lag, units: 0.999), sizes=(50,)),
                      grid(near(lambda lag, units: 0.3), lags=(2,), sizes=(50,), epochs=5000)])
    analysis = LagProfileAnalysis(LagProfile())
    section = analysis.section(runs)
    assert section[4] == "| lag | 2000 epochs | 5000 epochs |"
    assert section[6].endswith(" | - |") and "0.300" in section[7]
    answer = analysis.answer(runs)
    assert "2000 epochs: learned lag 1, 2" in answer and "5000 epochs: learned none" in answer
    assert "several epoch budgets" in answer


KINDS_AND_RUNS = [
    (LagGrid(), grid(near(lambda lag, units: 0.9))),
    (UnitsNeeded(), grid(near(lambda lag, units: 0.9))),
    (LagProfile(), grid(near(lambda lag, units: 0.9), sizes=(50,))),
    (DelayLine(), delay(lambda cell, lag, units, seed: 0.5 + 0.5 * (units > 8))),
]


@pytest.mark.parametrize("declared, runs", KINDS_AND_RUNS)
def test_every_kinds_headline_says_at_which_settings_it_holds(declared, runs):
    settings = f"{runs['epochs'].iloc[0]} epochs, Adam {runs['learning_rate'].iloc[0]:g}"
    assert settings in analysis_of(declared).headline(runs)


@pytest.mark.parametrize("declared, runs", KINDS_AND_RUNS)
def test_every_kind_draws_the_figures_its_markdown_links(declared, runs, tmp_path):
    analysis = analysis_of(declared)
    assert isinstance(analysis, Analysis)
    links = [line for line in analysis.draw(runs, tmp_path / "page", "page") if line]
    assert links
    for link in links:
        target = link[link.index("](") + 2:-1]
        assert (tmp_path / target).is_file()


def test_units_needed_at_each_rate_sets_the_rates_side_by_side_with_the_fewest_and_the_safe():
    slow = grid(lambda lag, units, seed: 1.0 if units == 50 else 0.2)
    fast = grid(lambda lag, units, seed: 1.0 if units >= 5 else 0.2).assign(learning_rate=0.01)
    table = UnitsNeededAnalysis(UnitsNeeded(learned=0.99, share=0.5)).across_rates(
        [(0.001, slow), (0.01, fast)])
    assert table[0] == "## Units needed at each learning rate"
    head = 5 * 100 + 100
    assert f"| LSTM | 1 | 50 | 5 | 5 (0.01) | {4 * (5 * 105 + 5) + head} | 50 |" in table
    assert UnitsNeededAnalysis(UnitsNeeded()).across_rates([(0.001, slow)]) == []


def test_a_larger_layer_scoring_below_a_smaller_one_is_flagged_per_cell():
    runs = delay(lambda cell, lag, units, seed: 0.2 if cell == "gru" and lag == 2 and units == 32
                 else 1.0)
    section = DelayLineAnalysis(DelayLine(learned=0.99, share=0.5)).section(runs)
    flagged = [line for line in section if line.startswith("**Larger is worse.**")]
    assert len(flagged) == 1 and flagged[0].startswith(
        "**Larger is worse.** GRU scores lower with more units (mean held-out accuracy) at k = 2: "
        "32 units 0.20, 8 units 1.00.")
    calm = UnitsNeededAnalysis(UnitsNeeded()).section(grid(near(lambda lag, units: units / 50)))
    assert not any(line.startswith("**Larger is worse.**") for line in calm)
