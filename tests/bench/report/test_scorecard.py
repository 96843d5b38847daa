"""The scorecard pairs a cell's runs, derived or declared, with the LSTM's alike."""

from bench.cli.main import main


def test_a_cell_an_experiment_declares_is_set_against_the_lstm_variant_alike(tmp_path, fake_workers,
                                                                             capsys):
    fake_workers()
    results = ["--results", str(tmp_path)]
    assert main(["run", "cell-type", "--seeds", "2", "--rates", "0.001", "--quiet", *results]) == 0
    capsys.readouterr()
    assert main(["scorecard", "gru", *results, "--reference", str(tmp_path)]) == 0
    page, err = capsys.readouterr()
    rows = [line for line in page.splitlines() if line.startswith("| gru-lag") and " vs " in line]
    assert [row.split(" | ")[0] for row in rows] == [f"| gru-lag{lag} vs lstm-lag{lag}" for lag in (1, 4, 8)]
    assert all(row.endswith("(n = 2) |") for row in rows) and not err
    assert "Not here" not in page  # the LSTM's and SimpleRNN's variants have GRU ones declared
    assert main(["run", "cell-type", "--seeds", "2", "--rates", "0.001", "--set", "cell=gru",
                 "--variants", "lstm-lag1", "--quiet", *results]) == 0
    capsys.readouterr()
    assert main(["scorecard", "gru", *results, "--reference", str(tmp_path)]) == 0
    derived = next(line for line in capsys.readouterr()[0].splitlines()
                   if line.startswith("| lstm-lag1 |"))
    assert derived.endswith("(n = 2) |")  # derived with --set cell=gru: set against lstm-lag1
