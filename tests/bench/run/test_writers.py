"""A run's exit status tells the truth, one command writes a directory at a time, a write that
fails or a signal costs no finished run, and no worker outlives its command."""

import errno
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.cli.main import main
from bench.run.runner import Outcome
from bench.store import files
from echo.records import Run

from helpers import QUICK, bench, start, trained


def stored_seeds(results: Path) -> list[int]:
    return pd.read_csv(results / "echo-current" / "runs.csv")["seed"].tolist()


def test_exit_status_is_1_while_a_run_asked_for_is_not_stored(tmp_path, fake_workers, capsys):
    fake_workers(failing={2})
    assert main([*QUICK, "--results", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "1 of 4 runs asked for are not stored" in err and err.count("\n") == 1
    errors = pd.read_csv(tmp_path / "echo-current" / "errors.csv")
    assert errors["seed"].tolist() == [2] and "boom" in errors["error"].item()
    fake_workers()
    assert main([*QUICK, "--results", str(tmp_path)]) == 0
    assert stored_seeds(tmp_path) == [0, 1, 2, 3]
    assert not (tmp_path / "echo-current" / "errors.csv").exists()
    meta = json.loads((tmp_path / "echo-current" / "meta.json").read_text())
    first, second = meta["invocations"]
    assert (first["runs"], first["failed"], second["runs"], second["status"]) == (3, 1, 1, "finished")
    assert second["ended"] >= second["started"][:19] and second["engine"] == "per-seed"
    assert second["backend"] == "loky" and meta["machine"]["cpu"] and "seaborn" in meta["packages"]
    assert second["devices"] == ["Made-up GPU"]


def test_force_with_other_settings_replaces_the_whole_variant(tmp_path, fake_workers):
    fake_workers()
    assert main([*QUICK, "--results", str(tmp_path)]) == 0
    assert main([*QUICK, "--seeds", "2", "--epochs", "6", "--results", str(tmp_path)]) == 2
    assert main([*QUICK, "--seeds", "2", "--epochs", "6", "--force",
                     "--results", str(tmp_path)]) == 0
    runs = pd.read_csv(tmp_path / "echo-current" / "runs.csv")
    assert runs["seed"].tolist() == [0, 1] and (runs["epochs"] == 6).all()
    curves = pd.read_csv(tmp_path / "echo-current" / "curves.csv")
    assert curves.groupby("seed")["epoch"].max().tolist() == [6, 6]
    meta = json.loads((tmp_path / "echo-current" / "meta.json").read_text())
    assert meta["settings"]["lstm15"]["epochs"] == 6 and meta["seeds"] == [0, 1]


def test_after_an_interruption_the_curve_granularity_is_kept(tmp_path, monkeypatch, fake_workers, capsys):
    def interrupted(tasks, jobs, **_):
        yield [Outcome(tasks[0], trained(tasks[0]))]
        raise KeyboardInterrupt

    monkeypatch.setattr("bench.run.runner.run_tasks", interrupted)
    assert main([*QUICK, "--curve-every", "2", "--results", str(tmp_path)]) == 130
    assert "1 finished runs are saved" in capsys.readouterr().err
    fake_workers()
    assert main([*QUICK, "--curve-every", "1", "--results", str(tmp_path)]) == 2
    assert "stores curves every 2 epochs" in capsys.readouterr().err
    assert main([*QUICK, "--results", str(tmp_path)]) == 0
    curves = pd.read_csv(tmp_path / "echo-current" / "curves.csv")
    assert curves.groupby("seed")["epoch"].apply(list).tolist() == [[2, 4, 5]] * 4


@pytest.mark.parametrize("failing_file", [".staging", "curves.csv", "meta.json"])
def test_a_full_disk_is_one_line_keeps_finished_runs_and_a_rerun_completes(
        tmp_path, monkeypatch, fake_workers, capsys, failing_file):
    fake_workers()
    write = files.atomic_write
    staged = []

    def full_disk(path, data):
        if failing_file in str(path) and (failing_file != ".staging" or len(staged) == 2):
            raise OSError(errno.ENOSPC, "No space left on device")
        if ".staging" in str(path):
            staged.append(path)
        write(path, data)

    monkeypatch.setattr(files, "atomic_write", full_disk)
    assert main([*QUICK, "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and "run the same command" in err
    monkeypatch.setattr(files, "atomic_write", write)
    assert main([*QUICK, "--results", str(tmp_path)]) == 0
    assert stored_seeds(tmp_path) == [0, 1, 2, 3]
    assert (tmp_path / "echo-current" / "meta.json").exists()


@pytest.mark.parametrize("args, message", [
    (["--seeds", "1000000000"], "more than 1,000,000 in one command"),
    (["--epochs", "2000000000"], "ask for fewer epochs"),
    (["--epochs", "1000000000000"], "expected a positive integer up to 2,147,483,647"),
    (["--curve-every", "100000000000000000000"], "expected a positive integer up to"),
])
def test_absurd_sizes_are_refused_before_anything_starts(tmp_path, capsys, args, message):
    assert main(["run", "echo-current", *args, "--results", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_an_experiment_path_that_cannot_be_a_directory_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "echo-current").write_text("not a directory")
    assert main([*QUICK, "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot write results in {tmp_path / 'echo-current'}" in err


def wait_until(condition, process, limit=300):
    deadline = time.monotonic() + limit
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.slow
def test_a_second_writer_is_refused_at_once_or_waits_and_then_sees_the_first_ones_runs(tmp_path):
    lock = tmp_path / "echo-current" / ".writer.lock"
    # Long enough to outlast two more commands' start-up, its program loaded from the cache or not.
    first = start(*QUICK, "--epochs", "4000", "--jobs", "1", "--results", str(tmp_path))
    wait_until(lambda: lock.exists() and lock.read_text().strip() == str(first.pid), first)
    refused = bench(*QUICK, "--epochs", "4000", "--results", str(tmp_path))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert f"being written by another command (pid {first.pid})" in refused.stderr
    other = bench(*QUICK, "--epochs", "100", "--wait", "--results", str(tmp_path))
    assert first.wait(timeout=300) == 0
    assert other.returncode == 2 and "waiting for it to end" in other.stderr
    assert "made with other settings" in other.stderr
    same = bench(*QUICK, "--epochs", "4000", "--results", str(tmp_path))
    assert same.returncode == 0 and "4 of 4 runs already in" in same.stdout
    assert stored_seeds(tmp_path) == [0, 1, 2, 3]


def session_members(session: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@pytest.mark.slow
@pytest.mark.parametrize("stop, status, backend", [
    (signal.SIGTERM, 143, "loky"), (signal.SIGINT, 130, "loky"), (signal.SIGKILL, -9, "loky"),
    (signal.SIGKILL, -9, "dask")])
def test_no_worker_outlives_its_command(tmp_path, stop, status, backend):
    """SIGTERM sent twice (the second while the command saves), Ctrl-C as a terminal sends it
    (to the whole group, workers too), SIGKILL."""
    process = start("run", "echo-lag", "--seeds", "40", "--epochs", "600", "--jobs", "2",
                    "--quiet", "--backend", backend, "--results", str(tmp_path))
    staging = tmp_path / "echo-lag" / ".staging"
    wait_until(lambda: staging.exists() and list(staging.glob("*.npz")), process)
    assert len(session_members(process.pid)) >= 3  # the command and its two workers
    if stop == signal.SIGINT:
        os.killpg(process.pid, stop)
    else:
        process.send_signal(stop)
    if stop == signal.SIGTERM:
        time.sleep(0.05)
        process.send_signal(stop)
    _, err = process.communicate(timeout=60)
    assert process.returncode == status, err
    if stop != signal.SIGKILL:
        assert ("terminated" if stop == signal.SIGTERM else "interrupted") in err
        assert "Traceback" not in err, err
        assert len(pd.read_csv(tmp_path / "echo-lag" / "runs.csv")) >= 1
    deadline = time.monotonic() + 20
    while session_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert session_members(process.pid) == []


def test_a_directory_that_cannot_be_written_is_refused_before_training(tmp_path, fake_workers, capsys):
    fake_workers()
    assert main([*QUICK, "--seeds", "1", "--results", str(tmp_path)]) == 0
    directory = tmp_path / "echo-current"
    if subprocess.run(["chattr", "+i", str(directory)], capture_output=True).returncode:
        pytest.skip("chattr +i is not permitted here")
    try:
        before = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
        assert main([*QUICK, "--results", str(tmp_path)]) == 2
        assert "Operation not permitted" in capsys.readouterr().err
        assert {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()} == before
    finally:
        subprocess.run(["chattr", "-i", str(directory)])


def test_a_subset_of_variants_keeps_the_experiments_baseline_and_contrasts(tmp_path, fake_workers):
    fake_workers()
    assert main(["run", "full-sequence", "--variants", "padded-masked", "--seeds", "1",
                 "--rates", "0.001", "--epochs", "5", "--quiet", "--results", str(tmp_path)]) == 0
    meta = json.loads((tmp_path / "full-sequence" / "meta.json").read_text())
    assert meta["baseline"] == "window-5" and meta["variants"] == ["padded-masked"]


def test_until_decided_adds_the_same_seeds_to_every_variant_and_records_why_it_stopped(
        tmp_path, monkeypatch, capsys):
    def noisy(tasks, jobs, **_):
        for task in tasks:  # made-up accuracies that differ by seed, never decidedly
            run = trained(task)
            accuracy = 0.5 + np.random.default_rng([task.seed, len(task.variant)]).normal(0, 0.05)
            yield [Outcome(task, Run({**run.scores, "eval_accuracy": accuracy}, run.final_loss,
                                     run.train_seconds, run.curves))]

    monkeypatch.setattr("bench.run.runner.run_tasks", noisy)
    args = ["run", "ignore-state", "--until-decided", "--seeds", "2", "--round", "3",
            "--max-seeds", "8", "--epochs", "5", "--quiet", "--results", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "round 1 of at most 3: seeds 0..1" in out and "round 3 of at most 3: seeds 0..7" in out
    runs = pd.read_csv(tmp_path / "ignore-state" / "runs.csv")
    assert runs.groupby("variant")["seed"].apply(list).tolist() == [list(range(8))] * 3 * 4  # rates
    seeding = json.loads((tmp_path / "ignore-state" / "meta.json").read_text())["seeding"]
    assert seeding["seeds"] == 8 and seeding["stopped"] == "max seeds reached"
    assert seeding["looks"] == 3 and seeding["alpha_per_look"] == pytest.approx(0.05 / 3)
    assert main(args + ["--jobs", "1"]) == 0  # a rerun resumes: nothing to train, same record
    assert "96 of 96 runs already in" in capsys.readouterr().out
    assert json.loads((tmp_path / "ignore-state" / "meta.json").read_text())["seeding"] == seeding
    assert main(["run", "ignore-state", "--max-seeds", "8", "--results", str(tmp_path)]) == 2


@pytest.mark.parametrize("args, message", [
    (["run", "maskin"], "unknown experiment 'maskin' (did you mean 'masking'?)"),
    (["run", "masking", "--variants", "zer0"], "unknown variant 'zer0' (did you mean 'zero'?)"),
    (["run", "echo-lag", "--epoch", "2"], "unrecognized arguments: --epoch 2"),
    (["speed", "all"], "name one, not all"),
])
def test_misspellings_and_abbreviations_are_refused_helpfully(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_list_shows_the_experiments_named(capsys):
    assert main(["list", "masking"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("masking\n") and "echo-lag\n" not in out


def test_report_writes_beside_results_that_are_not_the_default(tmp_path, fake_workers):
    fake_workers()
    assert main([*QUICK, "--seeds", "2", "--results", str(tmp_path)]) == 0
    assert main(["report", "--results", str(tmp_path)]) == 0
    assert (tmp_path / "reports" / "echo-current.md").exists()


def interrupted_after(monkeypatch, runs: int):
    """Workers that finish `runs` runs, then the user presses Ctrl-C."""
    def run_tasks(tasks, jobs, **_):
        for task in tasks[:runs]:
            yield [Outcome(task, trained(task))]
        raise KeyboardInterrupt

    monkeypatch.setattr("bench.run.runner.run_tasks", run_tasks)


def test_an_interrupted_force_keeps_the_old_variant_whole_and_is_resumed_or_abandoned(
        tmp_path, monkeypatch, fake_workers, capsys):
    import bench

    results = ["--results", str(tmp_path)]
    fake_workers()
    assert main([*QUICK, *results]) == 0
    old = bench.load(tmp_path)[0]
    forced = [*QUICK, "--epochs", "6", "--force", *results]
    interrupted_after(monkeypatch, 1)
    assert main(forced) == 130
    runs = bench.load(tmp_path)[0]
    pd.testing.assert_frame_equal(runs, old)
    capsys.readouterr()
    fake_workers()
    assert main([*QUICK, *results]) == 0  # the old command still finds all its runs
    out, err = capsys.readouterr()
    assert "4 of 4 runs already in" in out and "unfinished --force" in err and err.count("\n") == 1
    trained_now = []

    def run_tasks(tasks, jobs, **_):
        for task in tasks:
            trained_now.append(task.seed)
            yield [Outcome(task, trained(task))]

    monkeypatch.setattr("bench.run.runner.run_tasks", run_tasks)
    assert main(forced) == 0
    assert trained_now == [1, 2, 3]  # the replacement resumed: seed 0 was staged already
    runs = bench.load(tmp_path)[0]
    assert runs["seed"].tolist() == [0, 1, 2, 3] and set(runs["epochs"]) == {6}
    assert not list((tmp_path / "echo-current" / ".staging").iterdir())
    interrupted_after(monkeypatch, 2)
    assert main([*QUICK, "--force", *results]) == 130
    capsys.readouterr()
    assert main(["abandon", "echo-current", *results]) == 0
    assert "unfinished --force dropped" in capsys.readouterr().out
    pd.testing.assert_frame_equal(bench.load(tmp_path)[0], runs)
    assert not list((tmp_path / "echo-current" / ".staging").iterdir())


def test_until_decided_resumed_after_an_interrupt_makes_the_same_looks(tmp_path, monkeypatch,
                                                                        capsys):
    def scores(stop_after=None):
        finished = []

        def run_tasks(tasks, jobs, **_):
            for task in sorted(tasks, key=lambda t: t.seed):  # seed by seed, as workers may
                if len(finished) == stop_after:
                    raise KeyboardInterrupt
                finished.append(task)
                run = trained(task)
                accuracy = {"stateless": 0.52, "stateful-reset": 0.5,  # carry: equivalent at 5
                            "stateful-carry": 0.5 + 0.0006 * (-1) ** task.seed}[task.variant]
                yield [Outcome(task, Run({**run.scores, "eval_accuracy": accuracy}, run.final_loss,
                                         run.train_seconds, run.curves))]
        return run_tasks

    def command(results):
        return ["run", "ignore-state", "--until-decided", "--seeds", "3", "--round", "3",
                "--max-seeds", "15", "--rates", "0.001", "--epochs", "5", "--quiet", "--results",
                str(results)]

    monkeypatch.setattr("bench.run.runner.run_tasks", scores())
    assert main(command(tmp_path / "whole")) == 0
    whole = json.loads((tmp_path / "whole" / "ignore-state" / "meta.json").read_text())["seeding"]
    assert whole["seeds"] == 6  # decided at the second look (the first has 3 seeds)
    monkeypatch.setattr("bench.run.runner.run_tasks", scores(3 * 3 + 6))  # Ctrl-C at seed 5
    assert main(command(tmp_path / "resumed")) == 130
    monkeypatch.setattr("bench.run.runner.run_tasks", scores())
    assert main(command(tmp_path / "resumed")) == 0
    resumed = json.loads((tmp_path / "resumed" / "ignore-state" / "meta.json").read_text())
    assert {**resumed["seeding"], "command": ""} == {**whole, "command": ""}


def test_a_run_whose_loss_is_not_finite_is_a_failed_run_and_blocks_nothing(tmp_path, monkeypatch,
                                                                           capsys):
    def diverging(tasks, jobs, **_):
        for task in tasks:
            run = trained(task)
            if task.seed == 1:  # a layer that returns NaN, as a user's may
                run = Run(run.scores, float("nan"), run.train_seconds, run.curves)
            yield [Outcome(task, run)]

    monkeypatch.setattr("bench.run.runner.run_tasks", diverging)
    results = ["--results", str(tmp_path)]
    assert main([*QUICK, "--seeds", "3", *results]) == 1
    errors = pd.read_csv(tmp_path / "echo-current" / "errors.csv")
    assert errors["seed"].tolist() == [1]
    assert "not stored: its row, column final_loss: empty is not a finite number" in errors["error"][0]
    assert pd.read_csv(tmp_path / "echo-current" / "runs.csv")["seed"].tolist() == [0, 2]
    assert not list((tmp_path / "echo-current" / ".staging").iterdir())
    capsys.readouterr()
    assert main(["report", *results]) == 0  # readers are not blocked
    assert main([*QUICK, "--seeds", "3", *results]) == 1  # the seed is retried, and fails again
    assert "2 of 3 runs already in" in capsys.readouterr().out
