"""Any architecture a researcher brings (`--set cell=module:Name`): a cell with weights under
names of its own, a recurrent layer with two states, a sequence layer that is no RNN; what each
can run, what is refused before training, and that a seed gives the same numbers twice."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from echo.cells import sequence_layer
from echo.initial import initial_weights, keras_drawn
from echo.models import build_model, state_variables
from echo.protocol import initial_model, template_model
from echo.spec import ModelSpec
from experiments import discover

from helpers import ROOT, bench

EXPERIMENTS = discover()  # the declared experiments, by name

ENV = {"PYTHONPATH": str(ROOT / "tests")}
OWN, TWO, WINDOW, BARE = (f"architectures:{name}" for name in
                          ("OwnNamesCell", "TwoStateRNN", "WindowMLP", "BareVariableCell"))


def test_each_kind_of_layer_is_known_for_what_it_can_do():
    cell, layer, window = (sequence_layer(c) for c in (OWN, TWO, WINDOW))
    assert cell.recurrent and layer.recurrent and not window.recurrent
    assert window.takes == frozenset() and window.outputs == "last"
    assert cell.refuses(True, "sequence") is None and layer.refuses(True, "last") is None
    assert "cannot carry state" in window.refuses(True, "last")
    assert "no sequence head" in window.refuses(False, "sequence")
    assert "no encoder_decoder head" in window.refuses(False, "encoder_decoder")
    assert window.refuses(False, "last") is None
    dense = sequence_layer("keras.layers:Dense")  # maps every step: its last step feeds the head
    assert dense.outputs == "sequence" and dense.refuses(False, "last") is None
    assert dense.last_step("last") and dense.last_step("encoder_decoder")
    assert not dense.last_step("sequence") and not window.last_step("last")
    assert "cannot carry state" in dense.refuses(True, "last")


def test_a_layer_returning_every_step_feeds_a_one_output_head_through_its_last_step():
    spec = ModelSpec(units=4, timesteps=5, batch_size=5, stateful=False, cell="keras.layers:Dense")
    model = build_model(spec)
    assert model.output_shape == (5, 100) and model.layers[-2].name.startswith("last_step")
    x = np.random.default_rng(0).random((5, 5, 100)).astype("float32")
    hidden = model.layers[1](x)  # every step's output: the head reads the last one alone
    expected = model.layers[-1](hidden[:, -1, :])
    np.testing.assert_allclose(model(x), expected, rtol=1e-6)
    sequence = build_model(dataclasses.replace(spec, head="sequence"))
    assert sequence.output_shape == (5, 5, 100)


def test_a_layer_gets_only_the_options_it_takes_and_a_refused_variant_does_not_build():
    spec = ModelSpec(units=4, timesteps=5, batch_size=5, stateful=False, cell=WINDOW)
    assert build_model(spec).output_shape == (5, 100)
    with pytest.raises(ValueError, match="cannot carry state"):
        build_model(ModelSpec(units=4, timesteps=5, batch_size=5, stateful=True, cell=WINDOW))
    two = build_model(ModelSpec(units=4, timesteps=5, batch_size=5, stateful=True, cell=TWO))
    assert [v.shape for v in state_variables(two)] == [(5, 4), (5, 4)]


@pytest.mark.parametrize("cell, drawn", [(OWN, 0), (TWO, 0), (WINDOW, 0), (BARE, 1)])
def test_weights_under_any_names_come_from_the_seed_alike_in_a_chunk_and_alone(cell, drawn):
    """Every initializer known (the same weights on every backend), or Keras's own draw under
    the seed for a bare variable: either way the chunk's seeds start as they do alone."""
    setup = EXPERIMENTS["ignore-state"].variants["stateless"].replace(cell=cell, units=6)
    model = template_model(setup)
    assert len(keras_drawn(model)) == drawn
    chunk = initial_weights(model, [4, 9], rebuild=lambda: template_model(setup, clear=False))
    for position, seed in enumerate((4, 9)):
        alone = [np.asarray(v.value) for v in initial_model(setup, seed).trainable_variables]
        for stacked, value in zip(chunk, alone):
            np.testing.assert_array_equal(stacked[position], value)
    assert not np.array_equal(chunk[0][0], chunk[0][1])


@pytest.mark.slow
def test_published_style_layers_train_from_the_command_line_and_refusals_come_first(tmp_path):
    quick = ["--seeds", "2", "--epochs", "4", "--quiet"]

    def run(*args, results="mine"):
        return bench("run", *args, *quick, "--results", str(tmp_path / results), env=ENV)

    for results in ("mine", "again"):
        done = run("echo-current", "--set", f"cell={OWN}", results=results)
        assert done.returncode == 0, done.stderr
        done = run("ignore-state", "--variants", "stateless", "--set", f"cell={WINDOW}",
                   "--rates", "0.001", results=results)
        assert done.returncode == 0, done.stderr
    for name in ("echo-current", "ignore-state"):
        first, second = (pd.read_csv(tmp_path / r / name / "runs.csv") for r in ("mine", "again"))
        assert len(first) == 2
        pd.testing.assert_series_equal(first["eval_accuracy"], second["eval_accuracy"])
        pd.testing.assert_series_equal(first["final_loss"], second["final_loss"])
    done = run("echo-lag", "--set", f"cell={TWO}")
    assert done.returncode == 0, done.stderr
    for results in ("bare", "bare-again"):
        done = run("echo-current", "--set", f"cell={BARE}", results=results)
        assert done.returncode == 0, done.stderr
    bare, again = (pd.read_csv(tmp_path / r / "echo-current" / "runs.csv") for r in ("bare", "bare-again"))
    pd.testing.assert_series_equal(bare["final_loss"], again["final_loss"])
    assert bare["final_loss"].nunique() == 2  # the seeds differ
    notes = json.loads((tmp_path / "bare" / "echo-current" / "meta.json").read_text())["cell_notes"]
    assert list(notes) == [f"lstm15[cell={BARE}]"] and "shift" in notes[f"lstm15[cell={BARE}]"]

    stateful = run("ignore-state", "--set", f"cell={WINDOW}")
    assert stateful.returncode == 2 and stateful.stderr.count("\n") == 1, stateful.stderr
    assert "cannot carry state" in stateful.stderr and "Traceback" not in stateful.stderr
    assert f"ignore-state/stateful-reset[cell={WINDOW}]" in stateful.stderr
    assert f"ignore-state/stateful-carry[cell={WINDOW}]" in stateful.stderr
    sequence = run("lag-sequence", "--variants", "seq2seq-lag1", "--set", f"cell={WINDOW}",
                   "--set", "stateful=false")
    assert sequence.returncode == 2 and "no sequence head" in sequence.stderr
    assert len(pd.read_csv(tmp_path / "mine" / "ignore-state" / "runs.csv")) == 2  # untouched

    assert run("ignore-state", "--variants", "stateless", results="lstm").returncode == 0
    card = bench("scorecard", WINDOW, "--results", str(tmp_path / "mine"), "--reference",
                 str(tmp_path / "lstm"), "--out", str(tmp_path / "card.md"), env=ENV)
    assert card.returncode == 0, card.stderr
    page = (tmp_path / "card.md").read_text()
    assert page.startswith(f"# Scorecard: {WINDOW}") and "| stateless |" in page


@pytest.mark.slow
def test_a_published_parallel_scan_layer_trains_through_its_last_step(tmp_path):
    pytest.importorskip("mingru_keras")
    done = bench("run", "ignore-state", "--variants", "stateless", "--set",
                 "cell=mingru_keras:MinGRU", "--seeds", "2", "--epochs", "100", "--rates", "0.001",
                 "--quiet", "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr
    runs = pd.read_csv(tmp_path / "ignore-state" / "runs.csv")
    assert len(runs) == 2 and runs["eval_accuracy"].between(0, 1).all()
    notes = json.loads((tmp_path / "ignore-state" / "meta.json").read_text())["cell_notes"]
    assert "its last step feeds the head" in notes["stateless[cell=mingru_keras:MinGRU]"]


def test_a_reader_is_told_of_weights_keras_drew_and_of_a_mask_the_layer_drops():
    from bench.store.provenance import cell_notes

    masked = EXPERIMENTS["masking"].variants["masking-layer"].replace(stateful=False)
    assert "does not consume masks" in cell_notes(masked.replace(cell=WINDOW))
    assert cell_notes(masked.replace(cell=OWN)) == ""  # a cell in keras.layers.RNN consumes it
    bare = cell_notes(masked.replace(cell=BARE))
    assert "Keras's own draw" in bare and "/shift" in bare and "masks" not in bare


def test_the_scorecard_sets_the_cell_beside_the_declared_one_each_cross_fitted_over_the_rates(
        tmp_path, monkeypatch):
    """Made-up runs: this cell does best at 1e-2, the LSTM at 3e-3; every fold of the
    cross-fitting finds so, and the two are compared at those rates, paired by seed."""
    from bench.cli.main import main
    from bench.run.runner import Outcome

    from helpers import trained

    def made_up(task):
        best = 1e-2 if ":" in task.setup.cell else 3e-3
        run = trained(task)
        accuracy = 0.9 - abs(np.log10(task.setup.learning_rate / best)) / 10 + task.seed % 7 * 1e-4
        return dataclasses.replace(run, scores={**run.scores, "eval_accuracy": accuracy})

    def run_tasks(tasks, jobs, **_):
        for task in tasks:
            yield [Outcome(task, made_up(task))]

    monkeypatch.setattr("bench.run.runner.run_tasks", run_tasks)
    quick = ["--epochs", "3", "--quiet"]
    for folder, mine in (("ref", []), ("mine", ["--set", f"cell={OWN}"])):
        results = ["--results", str(tmp_path / folder)]
        assert main(["run", "ignore-state", "--seeds", "4", *mine, *quick, *results]) == 0
    card = scorecard_page(tmp_path)
    row = next(line for line in card.splitlines() if line.startswith("| stateless | 0.01 in 4 of 4 |"))
    assert "| 0.003 in 4 of 4 |" in row and row.endswith("| equivalent (n = 4) |")
    assert "### Tuned: each cell cross-fitted over the rates of ignore-state" in card
    assert main(["run", "ignore-state", "--set", "learning_rate=0.01", *quick,
                 "--results", str(tmp_path / "mine")]) == 2


def scorecard_page(tmp_path) -> str:
    from bench.cli.main import main

    out = tmp_path / "card.md"
    assert main(["scorecard", OWN, "--results", str(tmp_path / "mine"), "--reference",
                     str(tmp_path / "ref"), "--out", str(out)]) == 0
    return out.read_text()
