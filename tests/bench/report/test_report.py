"""Reports come from results alone, identically every time, and refuse what is not there."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bench.store.schema import hash_of_settings, row_settings

from helpers import bench


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    directory = tmp_path_factory.mktemp("results")
    done = bench("run", "echo-lag", "masking", "--seeds", "3", "--epochs", "25", "--quiet",
                 "--results", str(directory))
    assert done.returncode == 0, done.stderr
    return directory


@pytest.mark.slow
def test_report_writes_every_experiment_with_figures_and_is_byte_identical(results, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        done = bench("report", "--results", str(results), "--out", str(out))
        assert done.returncode == 0, done.stderr
    for name in ("README.md", "echo-lag.md", "masking.md", "masking/curves.png",
                 "masking/scores.png"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    masking = (first / "masking.md").read_text()
    for text in ("**Question.**", "## Answer", "held-out accuracy (95% CI)", "IQM", "Holm p",
                 "TOST interval", "sign-flip p", "P(improvement)",
                 "held-out accuracy, incomplete rows", "masking/curves.png",
                 "masking/contrasts.png", "| mark vs drop | 0.001 (protocol) | 3 | 0.002 |",
                 "## Learning rates", "| contrast | 0.0003 | 0.001 | 0.003 | 0.01 | across the rates |",
                 "### Tuned by cross-fitting", "### Collapse", "masking/rates.png",
                 "masking/rate_seeds.png"):
        assert text in masking
    for figure in ("rates.png", "rate_seeds.png"):
        assert (first / "masking" / figure).read_bytes() == (second / "masking" / figure).read_bytes()
    assert (first / "masking" / "curves.png").stat().st_size > 10_000
    assert (first / "masking" / "scores.png").exists()
    index = (first / "README.md").read_text()
    assert index.index("## Answers") < index.index("## The tutorial's claims") < index.index(
        "## How the results were made")  # answers first, provenance last
    lines = index.splitlines()
    masking_line = next(line for line in lines if line.startswith("- [masking](masking.md): "))
    assert "**3 contrasts at Adam 0.001: " in masking_line and "; across the rates " in masking_line
    echo_lag = next(line for line in lines if line.startswith("- [echo-lag](echo-lag.md): "))
    assert "**measured " in echo_lag and "; the tutorial's claim " in echo_lag
    assert "(findings.png)" in index and (first / "findings.png").read_bytes() == (
        second / "findings.png").read_bytes()
    assert "--seeds 3 --epochs 25" in index and "minutes wall time" in index


@pytest.mark.slow
def test_report_of_one_experiment_writes_its_page_only(results, tmp_path):
    done = bench("report", "echo-lag", "--results", str(results), "--out", str(tmp_path))
    assert done.returncode == 0
    assert (tmp_path / "echo-lag.md").exists() and not (tmp_path / "masking.md").exists()
    assert not (tmp_path / "README.md").exists() and "the index left as it was" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["report", "--results", "/nonexistent"], "no results directory"),
    (["report", "lag", "--results", "RESULTS"], "no results for 'lag'"),
    (["report", "--results", "EMPTY"], "no results in"),
])
@pytest.mark.slow
def test_report_of_missing_results_is_refused(results, tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    args = [str(results) if a == "RESULTS" else str(tmp_path / "empty") if a == "EMPTY" else a
            for a in args]
    done = bench(*args, "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and message in done.stderr and done.stderr.count("\n") == 1


@pytest.mark.slow
def test_report_writes_only_folders_it_owns(results, tmp_path):
    for notes in ("a user's own notes\n", "# echo-bench reports\n\nmy notes, titled alike\n"):
        theirs = tmp_path / "theirs"
        theirs.mkdir(exist_ok=True)
        (theirs / "README.md").write_text(notes)
        refused = bench("report", "echo-lag", "--results", str(results), "--out", str(theirs))
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1
        assert "did not write (README.md)" in refused.stderr
        assert [p.name for p in theirs.iterdir()] == ["README.md"]
        assert (theirs / "README.md").read_text() == notes
    a_file = tmp_path / "file"
    a_file.write_text("x")
    refused = bench("report", "echo-lag", "--results", str(results), "--out", str(a_file))
    assert refused.returncode == 2 and "is a file" in refused.stderr and a_file.read_text() == "x"
    ours = tmp_path / "ours"
    for _ in range(2):  # a folder it wrote, it may write again
        assert bench("report", "echo-lag", "--results", str(results), "--out", str(ours)).returncode == 0


def repeat_a_row(directory):
    runs = directory / "runs.csv"
    runs.write_text(runs.read_text() + runs.read_text().splitlines()[1] + "\n")


def settings_not_an_object(directory):
    meta = json.loads((directory / "meta.json").read_text())
    (directory / "meta.json").write_text(json.dumps({**meta, "settings": 5}))


def mixed_grid(directory):
    """One variant's runs at another rate made with other units (its hash made to agree)."""
    runs = pd.read_csv(directory / "runs.csv", dtype=str, keep_default_na=False)
    rows = runs["variant"] == "drop[learning_rate=0.01]"
    runs.loc[rows, "units"] = "51"
    runs.loc[rows, "settings_hash"] = hash_of_settings(row_settings(runs[rows].iloc[0]))
    runs.to_csv(directory / "runs.csv", index=False)


@pytest.mark.parametrize("damage, message", [
    (repeat_a_row, "line 50 repeats drop seed 0"), (settings_not_an_object, "settings is 5"),
    (mixed_grid, "drop and drop[learning_rate=0.01] differ in more than the learning rate")])
@pytest.mark.slow
def test_each_experiment_is_read_on_its_own(results, tmp_path, damage, message):
    copy = tmp_path / "results"
    shutil.copytree(results, copy)
    damage(copy / "masking")
    runs = copy / "masking" / "runs.csv"
    (copy / "empty").mkdir()
    (copy / "empty" / "runs.csv").write_text(runs.read_text().splitlines()[0] + "\n")
    done = bench("report", "--results", str(copy), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "not reported" in done.stderr and message in done.stderr
    assert (tmp_path / "out" / "echo-lag.md").exists()
    assert not (tmp_path / "out" / "masking.md").exists() and not (tmp_path / "out" / "empty.md").exists()


def test_a_command_run_in_rounds_is_one_line_with_its_times_summed():
    from bench.report.index import made_by

    def call(started, wall, runs, command="python -m bench run a b --until-decided"):
        return {"command": command, "started": started, "wall_seconds": wall, "runs": runs}

    metas = {"a": {"invocations": [call("t1", 60, 10), call("t2", 30, 10)]},
             "b": {"invocations": [call("t1", 60, 20), call("t3", 6, 5, "python -m bench run b")]}}
    assert made_by(metas, Path("results")) == [
        "- `python -m bench run a b --until-decided`: 1.5 minutes wall time in 2 invocations "
        "(a: 20 runs; b: 20 runs)",
        "- `python -m bench run b`: 0.1 minutes wall time (b: 5 runs)"]


def test_a_grids_answer_names_the_protocol_it_holds_for():
    import pandas as pd

    from bench.report.analyses import protocol

    grid = pd.DataFrame({"stateful": [True, True], "cell": ["lstm", "lstm"], "lag": [1, 2],
                         "window": [9, 9], "framing": ["lag_with_window"] * 2,
                         "epochs": [2000, 2000], "learning_rate": [0.001, 0.001]})
    assert protocol(grid) == "stateful LSTM, window 9, 2000 epochs, Adam 0.001"
    tight = grid.assign(stateful=[False, True], window=[2, 3], learning_rate=[0.001, 0.003],
                        cell="my.cells:Minimal")
    assert protocol(tight) == ("stateful or stateless Minimal, window lag + 1 (the target its "
                               "oldest step), 2000 epochs, several learning rates")


def test_only_results_as_a_sequential_command_left_them_pay_for_its_looks():
    import pandas as pd

    from bench.report.answers import alpha_of

    runs = pd.DataFrame({"seed": range(10)})
    until = "python -m bench run masking --until-decided"
    seeding = {"seeds": 10, "alpha_per_look": 0.01, "command": until}
    invocations = [{"command": until, "runs": 40}, {"command": until, "runs": 0}]
    assert alpha_of({"seeding": seeding, "invocations": invocations}, runs) == 0.01
    assert alpha_of({"seeding": seeding, "invocations": invocations}, runs.head(8)) == 0.05
    later = [*invocations, {"command": "python -m bench run masking --seeds 10", "runs": 120}]
    assert alpha_of({"seeding": seeding, "invocations": later}, runs) == 0.05
    assert alpha_of({"invocations": invocations}, runs) == 0.05


def test_costs_per_epoch_are_said_to_compare_only_when_one_command_timed_every_run():
    from bench.report.page import commands_timing, timing_note

    invocations = [{"started": "2026-12-01T10:00:00+00:00", "ended": "2026-12-01T11:00:00+00:00"},
                   {"started": "2026-12-02T10:00:00+00:00"}]  # still running: no end yet
    runs = pd.DataFrame({"finished_at": ["2026-12-01T10:30:00+00:00", "2026-12-01T10:40:00+00:00"]})
    assert commands_timing(runs, invocations) == (1, 0)
    assert "timed in one command" in timing_note(runs, {"invocations": invocations})
    later = pd.concat([runs, pd.DataFrame({"finished_at": ["2026-12-03T09:00:00+00:00", None]})])
    assert commands_timing(later, invocations) == (2, 1)
    assert timing_note(later, {"invocations": invocations}).startswith(
        "ms/epoch: these runs were timed in 2 commands and 1 runs at times not recorded;")
