"""`--set`: variants derived with a setting changed, stored, resumed and reported like declared ones."""

import pandas as pd
import pytest

from bench.cli.arguments import UsageError, override_grid
from echo import cells, setup, spec
from experiments import discover

from helpers import bench

EXPERIMENTS = discover()  # the declared experiments, by name


def test_a_sweep_is_every_combination_of_typed_values():
    grid = override_grid(["units=25,50", "stateful=false", "cell=gru"])
    assert grid == [{"units": 25, "stateful": False, "cell": "gru"},
                    {"units": 50, "stateful": False, "cell": "gru"}]


@pytest.mark.parametrize("overrides, message", [
    (["unit=25"], "unknown setting 'unit' (did you mean 'units'?)"),
    (["units=many"], "units takes int values, got 'many'"),
    (["stateful=maybe"], "stateful is true or false"),
    (["units"], "expected KEY=VALUE"),
    (["units=5", "units=6"], "each setting once"),
])
def test_bad_overrides_are_refused(overrides, message):
    with pytest.raises(UsageError) as refused:
        override_grid(overrides)
    assert message in str(refused.value)


def test_derived_variants_keep_the_declared_contrasts_between_them():
    masking = EXPERIMENTS["masking"]
    derived = masking.with_overrides(override_grid(["units=25,50"]))
    assert list(derived.variants)[:2] == ["drop[units=25]", "mark[units=25]"]
    assert derived.baseline == "drop[units=25]" and derived.variants["zero[units=50]"].units == 50
    assert len(derived.contrasts) == 2 * len(masking.contrasts)
    found = masking.contrasts_among(["drop", "mark", "drop[units=25]", "mark[units=25]", "zero"])
    pairs = {(c.variant, c.reference) for c in found}
    assert ("mark[units=25]", "drop[units=25]") in pairs and ("mark", "drop") in pairs
    assert all("[" not in c.variant or c.variant.endswith("[units=25]") for c in found)
    with pytest.raises(ValueError, match="units must be at least 1"):
        masking.with_overrides([{"units": 0}])


def test_the_cells_a_setup_accepts_are_those_the_model_builder_knows():
    assert set(spec.KERAS_CELLS) == set(cells.KERAS_LAYERS)


@pytest.mark.slow
def test_a_derived_variant_is_stored_resumed_and_reported(tmp_path):
    run = ["run", "masking", "--variants", "drop", "mark", "--set", "units=5", "--seeds", "2",
           "--rates", "0.001,0.01", "--epochs", "3", "--quiet", "--results", str(tmp_path)]
    done = bench(*run)
    assert done.returncode == 0, done.stderr
    runs = pd.read_csv(tmp_path / "masking" / "runs.csv")
    assert set(runs["variant"]) == {"drop[units=5]", "mark[units=5]", "drop[units=5][learning_rate=0.01]",
                                    "mark[units=5][learning_rate=0.01]"}
    assert set(runs["units"]) == {5}
    again = bench(*run)
    assert again.returncode == 0 and "8 of 8 runs already in" in again.stdout
    reported = bench("report", "--results", str(tmp_path))
    assert reported.returncode == 0, reported.stderr
    assert "mark[units=5] vs drop[units=5]" in (tmp_path / "reports" / "masking.md").read_text()


def test_the_learning_rate_is_a_setting_that_reaches_adam_and_leaves_stored_hashes():
    from bench.store.schema import settings_hash
    from echo.protocol import run

    assert override_grid(["learning_rate=0.003,1e-2"]) == [{"learning_rate": 0.003},
                                                          {"learning_rate": 0.01}]
    with pytest.raises(UsageError, match="learning_rate takes finite numbers"):
        override_grid(["learning_rate=nan"])
    with pytest.raises(ValueError, match=r"learning_rate must lie in \(0, 1\]"):
        setup.Setup(learning_rate=0)
    tutorial = EXPERIMENTS["echo-current"].baseline_setup.replace(epochs=3, eval_sequences=5)
    faster = tutorial.replace(learning_rate=0.01)
    assert settings_hash(tutorial.replace(learning_rate=1e-3)) == settings_hash(tutorial)
    assert settings_hash(faster) != settings_hash(tutorial)
    assert faster.model_spec().learning_rate == 0.01 and "Adam 0.01" in faster.describe()
    assert run(faster, 0).final_loss != run(tutorial, 0).final_loss


def test_variants_an_override_makes_alike_run_once_unless_a_contrast_names_them():
    declared = discover()
    delay = declared["delay-line"].with_overrides(override_grid(["cell=mod:Cell"]))
    assert len(declared["delay-line"].variants) == 72 and len(delay.variants) == 24
    assert "lstm-lag1-units8[cell=mod:Cell]" in delay.variants  # the first of those made alike
    assert "gru-lag1-units8[cell=mod:Cell]" not in delay.variants
    cells = declared["cell-type"].with_overrides(override_grid(["cell=mod:Cell"]))
    assert len(cells.variants) == 9  # every one named by a contrast


def test_a_setup_names_its_cell_as_the_reports_do():
    from echo.setup import Setup

    assert Setup(cell="simple_rnn").describe().startswith("stateful SimpleRNN(50), ")
    assert Setup(cell="pkg.cells:MinGRU", units=8).describe().startswith("stateful MinGRU(8), ")
