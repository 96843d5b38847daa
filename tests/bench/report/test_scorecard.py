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


def test_a_scorecard_written_to_a_file_draws_units_needed_against_lag_beside_the_other_cells(
        tmp_path, fake_workers, capsys):
    fake_workers()
    results = ["--results", str(tmp_path)]
    sizes = [f"{cell}lag{lag}-units{units}" for cell in ("", "gru-") for lag in (1, 2)
             for units in (1, 50)]
    assert main(["run", "capacity", "--variants", *sizes, "--seeds", "2", "--rates", "0.001",
                 "--quiet", *results]) == 0
    out = tmp_path / "card.md"
    assert main(["scorecard", "gru", *results, "--reference", str(tmp_path), "--out", str(out)]) == 0
    page = out.read_text()
    assert "](card/capacity/units-needed.png)" in page and "](card/capacity/heatmap-LSTM.png)" in page
    assert (tmp_path / "card" / "capacity" / "units-needed.png").stat().st_size > 0
    assert "| GRU | 1 |" in page and "| LSTM | 1 |" in page
