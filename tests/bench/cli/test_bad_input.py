"""Bad arguments and settings, each refused before anything trains: one line, status 2, nothing
written; and the statuses of commands that find nothing to do or compare."""

import pytest

from bench.cli.main import main

from helpers import QUICK


@pytest.mark.parametrize("args, message", [
    (["--set", "cell=..foo:Cell"], "unknown cell '..foo:Cell'"),
    (["--set", "cell=../../x:Y"], "unknown cell '../../x:Y'"),
    (["--set", "cell=no_such_package.cells:Cell"], "cannot be imported (ModuleNotFoundError"),
    (["--set", "cell=keras.layers:LSTMCellX"], "cannot be imported (AttributeError"),
    (["--set", "cell=json:dumps"], "is not a Keras layer or cell class"),
    (["--set", "cell=architectures:OneNumberLayer"],
     "maps (batch, time, features) = (1, 2, 3) to (1,), neither (batch, units) nor"),
    (["--set", "score_from=30"], "score_from 30 leaves no row with full history to score"),
    (["--set", "batch_size=3"], "makes 25 rows per sequence, not a whole number of batches of 3"),
    (["--set", "units=99999999999"], "units must be at most 2,147,483,647"),
    (["--set", "units=0"], "units must be at least 1"),
    (["--set", "window=0"], "window must be at least 1, got 0"),
    (["--set", "lag=-1"], "lag must be at least 1, got -1"),
    (["--set", "out_steps=0"], "out_steps must be at least 1, got 0"),
    (["--set", "learning_rate=1e-320"], "be a normal float32 (at least 1.18e-38)"),
    (["--set", "learning_rate=2"], "learning_rate must lie in (0, 1]"),
    (["--set", "lag=99"], "lag is not read by lstm15's framing (current, which reads none of"),
    (["--set", "window=3"], "window is not read by lstm15's framing (current"),
    (["--set", "out_steps=2"], "out_steps is not read by lstm15's framing (current"),
    (["--set", "length=2147483647"], "one run needs at least 12,000.0 GiB (most for its sequences)"),
    (["--set", "units=100000"], "(most for its weights), more than this machine's"),
    (["--set", "n_unique=2147483647"], "(most for its weights), more than this machine's"),
    (["--set", "stateful=maybe"], "stateful is true or false"),
    (["--curve-every", "100000000000000000000"], "expected a positive integer up to 2,147,483,647"),
    (["--seeds", "99999999999"], "expected a positive integer up to"),
])
def test_bad_settings_are_one_line_and_status_2_before_anything_is_written(
        tmp_path, fake_workers, capsys, args, message):
    fake_workers()
    assert main([*QUICK, *args, "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("overrides, message", [
    (["length=2"], "echo-lag / stateful-lstm50[length=2]: the lag_with_window framing makes no rows"),
    (["lag=5"], "the window (5) must contain X(t-lag) (lag 5)"),
    (["window=30"], "makes no rows of a sequence of length 25 (window 30, lag 1)"),
])
def test_settings_a_framing_cannot_frame_are_refused(tmp_path, fake_workers, capsys, overrides,
                                                     message):
    fake_workers()
    args = ["run", "echo-lag", "--seeds", "1", "--quiet", "--results", str(tmp_path)]
    assert main([*args, *[a for o in overrides for a in ("--set", o)]]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_every_model_a_cell_is_given_to_is_built_not_only_the_first(tmp_path, fake_workers, capsys):
    fake_workers()
    args = [*QUICK, "--set", "cell=architectures:SmallOnlyCell", "--set", "units=15,50",
            "--results", str(tmp_path)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be built into a model with 50 units (RuntimeError" in err
    assert not list(tmp_path.iterdir())


def test_compare_without_a_paired_run_is_not_a_pass(tmp_path, fake_workers, capsys):
    fake_workers()
    assert main([*QUICK, "--results", str(tmp_path / "a")]) == 0
    assert main([*QUICK, "--epochs", "6", "--results", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    for tolerance in ([], ["--tolerance", "0.01"]):
        assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), *tolerance]) == 1
        assert "nothing was compared" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "a"), "--tolerance",
                     "0.01"]) == 0


def test_a_scorecard_of_one_seed_a_side_is_written(tmp_path, fake_workers, capsys):
    fake_workers()
    base = ["run", "echo-lag", "--seeds", "1", "--quiet"]
    assert main([*base, "--results", str(tmp_path / "lstm")]) == 0
    assert main([*base, "--set", "cell=gru", "--results", str(tmp_path / "gru")]) == 0
    capsys.readouterr()
    assert main(["scorecard", "gru", "--results", str(tmp_path / "gru"), "--reference",
                     str(tmp_path / "lstm")]) == 0
    out, err = capsys.readouterr()
    assert "# Scorecard: gru" in out and "undecided (n = 1)" in out and not err
    assert ("Units needed (capacity): no runs of this cell yet. `python -m bench run capacity "
            "--set cell=gru --rates 0.001 --seeds 14` runs its grid at the protocol's rate (630 "
            "runs)") in out


def test_a_scorecard_of_a_cell_misnamed_is_one_line_naming_the_cells(tmp_path, capsys):
    assert main(["scorecard", "simplernn", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown cell 'simplernn'; choose from lstm, gru, simple_rnn" in err


def test_abandon_with_nothing_to_drop_says_so(tmp_path, fake_workers, capsys):
    fake_workers()
    assert main([*QUICK, "--results", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["abandon", "echo-current", "--results", str(tmp_path)]) == 0
    assert "no unfinished --force to drop" in capsys.readouterr().out
    assert main(["abandon", "echo-lag", "--results", str(tmp_path)]) == 2
    assert "no results for 'echo-lag'" in capsys.readouterr().err
    assert main(["abandon", "echo-curent", "--results", str(tmp_path)]) == 2
    assert "(did you mean 'echo-current'?)" in capsys.readouterr().err
    assert main(["abandon", "echo-current", "--variants", "lstm16", "--results", str(tmp_path)]) == 2
    assert "unknown variant 'lstm16' (did you mean 'lstm15'?)" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["../outside", "/outside", "outside"])
def test_abandon_touches_nothing_outside_the_results_folder(tmp_path, name, capsys):
    results, outside = tmp_path / "results", tmp_path / "outside"
    results.mkdir()
    outside.mkdir()
    (outside / ".tmp-abcd1234").write_text("a user's file")
    if name == "outside":
        (results / "outside").symlink_to(outside)
    target = name.replace("/outside", str(outside)) if name == "/outside" else name
    assert main(["abandon", target, "--results", str(results)]) == 2
    assert "no results for" in capsys.readouterr().err
    assert sorted(p.name for p in outside.iterdir()) == [".tmp-abcd1234"]


def test_a_scorecard_says_how_its_reference_differs_and_how_to_pair_them(tmp_path, fake_workers,
                                                                          capsys):
    fake_workers()
    base = ["run", "echo-lag", "--seeds", "2", "--quiet"]
    assert main([*base, "--results", str(tmp_path / "lstm")]) == 0
    assert main([*base, "--epochs", "6", "--set", "cell=gru", "--results", str(tmp_path / "gru")]) == 0
    capsys.readouterr()
    assert main(["scorecard", "gru", "--results", str(tmp_path / "gru"), "--reference",
                 str(tmp_path / "lstm")]) == 0
    assert ("no reference runs of these settings (epochs 2000 there, 6 here; rerun the reference "
            "with --epochs 6 to pair them)") in capsys.readouterr().out


def test_a_reader_that_stops_early_ends_the_command_quietly(monkeypatch, tmp_path):
    import os
    import sys

    class Closed:
        """stdout whose reader has gone, as under `bench list | head -1`."""

        def __init__(self):
            self.handle = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT)

        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

        def fileno(self):
            return self.handle

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["list"]) == 141
