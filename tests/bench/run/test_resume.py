"""Never lose a run: kill -9 and resume, settings kept apart, failures recorded."""

import json
import os
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from bench.run.runner import run_tasks
from bench.run.tasks import Task
from echo.setup import Setup

from helpers import bench, start

pytestmark = pytest.mark.slow

RUN = ["run", "echo-lag", "--seeds", "4", "--epochs", "600", "--jobs", "1", "--quiet"]
SAME = ["variant", "seed", "epochs", "eval_accuracy", "final_loss", "epochs_to_99", "settings_hash"]


def finished_runs(directory: Path) -> int:
    staged = len(list((directory / ".staging").glob("*.npz"))) if (directory / ".staging").exists() else 0
    merged = len(pd.read_csv(directory / "runs.csv")) if (directory / "runs.csv").exists() else 0
    return staged + merged


def wait_for_runs(directory: Path, count: int, process, limit=300):
    deadline = time.monotonic() + limit
    while finished_runs(directory) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no run finished in time"
        time.sleep(0.05)


def snapshot(directory: Path) -> dict:
    """Every file's bytes, but the locks a writer takes (bookkeeping, not results)."""
    return {p.name: p.read_bytes() for p in directory.rglob("*")
            if p.is_file() and not p.name.endswith(".lock")}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    results = tmp_path_factory.mktemp("whole")
    done = bench(*RUN, "--results", str(results))
    assert done.returncode == 0, done.stderr
    return results / "echo-lag"


def test_sigkill_then_rerun_gives_every_seed_once_with_the_same_numbers(tmp_path, uninterrupted):
    process = start(*RUN, "--results", str(tmp_path))
    wait_for_runs(tmp_path / "echo-lag", 2, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    survived = finished_runs(tmp_path / "echo-lag")
    assert 2 <= survived < 4
    again = bench(*RUN, "--results", str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert f"{survived} of 4 runs already in" in again.stdout
    runs = pd.read_csv(tmp_path / "echo-lag" / "runs.csv")
    assert runs["seed"].tolist() == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(runs[SAME], pd.read_csv(uninterrupted / "runs.csv")[SAME])
    curves = pd.read_csv(tmp_path / "echo-lag" / "curves.csv")
    pd.testing.assert_frame_equal(curves, pd.read_csv(uninterrupted / "curves.csv"))
    assert not list((tmp_path / "echo-lag" / ".staging").glob("*"))


def test_rerun_skips_finished_runs_and_force_reruns_them(tmp_path, uninterrupted):
    results = tmp_path / "echo-lag"
    results.mkdir()
    for name in ("runs.csv", "curves.csv", "meta.json"):
        (results / name).write_bytes((uninterrupted / name).read_bytes())
    again = bench(*RUN, "--results", str(tmp_path))
    assert again.returncode == 0 and "4 of 4 runs already in" in again.stdout
    assert (results / "runs.csv").read_bytes() == (uninterrupted / "runs.csv").read_bytes()
    forced = bench(*RUN, "--seeds", "1", "--force", "--results", str(tmp_path))
    assert forced.returncode == 0, forced.stderr
    runs = pd.read_csv(results / "runs.csv")
    assert runs["seed"].tolist() == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(runs[SAME], pd.read_csv(uninterrupted / "runs.csv")[SAME])


def test_other_settings_are_refused_and_leave_results_untouched(tmp_path):
    assert bench(*RUN, "--seeds", "1", "--results", str(tmp_path)).returncode == 0
    before = snapshot(tmp_path)
    other = bench(*RUN, "--seeds", "1", "--epochs", "601", "--results", str(tmp_path))
    assert other.returncode == 2 and other.stderr.count("\n") == 1
    assert "other settings" in other.stderr and "--force" in other.stderr
    assert snapshot(tmp_path) == before


def test_ctrl_c_keeps_finished_runs_and_says_how_to_resume(tmp_path):
    process = start(*RUN, "--seeds", "30", "--results", str(tmp_path))
    wait_for_runs(tmp_path / "echo-lag", 1, process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, (stdout, stderr)
    assert "run the same command again to resume" in stderr and "Traceback" not in stderr
    assert 1 <= len(pd.read_csv(tmp_path / "echo-lag" / "runs.csv")) < 30


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "runs.csv").write_text((d / "runs.csv").read_text()[:-40]), "is cut short"),
    (lambda d: (d / "runs.csv").write_text("garbage\n\x00\x01,,\n"), "lacks the columns"),
    (lambda d: (d / "curves.csv").write_text('a,"b\n'), "malformed"),
    (lambda d: (d / "meta.json").write_text(json.dumps({"format": 99})), "format 99"),
])
def test_damaged_results_are_refused_untouched(tmp_path, uninterrupted, damage, message):
    results = tmp_path / "echo-lag"
    results.mkdir()
    for name in ("runs.csv", "curves.csv", "meta.json"):
        (results / name).write_bytes((uninterrupted / name).read_bytes())
    damage(results)
    before = snapshot(tmp_path)
    done = bench(*RUN, "--results", str(tmp_path))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("args, message", [
    (["run", "echo-lag", "--variants", "nope"], "unknown variant 'nope'"),
    (["run", "echo-lag", "--results", "/dev/null/x"], "cannot create results directory"),
])
def test_more_bad_input(args, message):
    done = bench(*args)
    assert done.returncode == 2 and message in done.stderr and done.stderr.count("\n") == 1


class Crash:
    """A setup whose run kills its worker process outright."""

    def model_spec(self):
        os._exit(9)

    def frame(self, sequences):
        os._exit(9)


def test_a_failing_task_is_recorded_and_the_others_go_on():
    good = Setup(epochs=2, eval_sequences=1)
    tasks = [Task("echo-lag", "good", 0, good), Task("echo-lag", "bad", 0, good.replace(batch_size=7)),
             Task("echo-lag", "good", 1, good)]
    outcomes = {(o.task.variant, o.task.seed): o for chunk in run_tasks(tasks, 2, progress=False)
                for o in chunk}
    assert "do not split into batches of 7" in outcomes["bad", 0].error
    assert outcomes["good", 0].error is None and outcomes["good", 1].result is not None


def test_a_dying_worker_loses_only_its_task():
    good = Setup(epochs=2, eval_sequences=1)
    tasks = [Task("echo-lag", "good", seed, good) for seed in range(3)]
    tasks.insert(1, Task("echo-lag", "crash", 0, Crash()))
    outcomes = {(o.task.variant, o.task.seed): o for chunk in run_tasks(tasks, 2, progress=False)
                for o in chunk}
    assert len(outcomes) == 4
    assert outcomes["crash", 0].error.startswith("worker died")
    assert all(outcomes["good", s].error is None for s in range(3))


def test_curves_can_be_stored_as_block_means_and_the_choice_is_kept(tmp_path, uninterrupted):
    done = bench(*RUN, "--curve-every", "100", "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr
    curves = pd.read_csv(tmp_path / "echo-lag" / "curves.csv")
    full = pd.read_csv(uninterrupted / "curves.csv")
    assert curves.groupby("seed")["epoch"].apply(list).tolist()[0] == list(range(100, 601, 100))
    block = full[(full["seed"] == 1) & full["epoch"].between(101, 200)]["loss"].mean()
    assert abs(curves.query("seed == 1 and epoch == 200")["loss"].item() - block) < 1e-6
    other = bench(*RUN, "--seeds", "5", "--curve-every", "1", "--results", str(tmp_path))
    assert other.returncode == 2 and "--curve-every 100" in other.stderr
    more = bench(*RUN, "--seeds", "5", "--results", str(tmp_path))
    assert more.returncode == 0, more.stderr
    curves = pd.read_csv(tmp_path / "echo-lag" / "curves.csv")
    assert curves.query("seed == 4")["epoch"].tolist() == list(range(100, 601, 100))
