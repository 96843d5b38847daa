"""End to end through `python -m bench`, as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import ROOT, bench


@pytest.mark.slow
def test_run_writes_tidy_results(tmp_path):
    done = bench("run", "echo-lag", "beginners-mistake", "--seeds", "2", "--epochs", "4",
                 "--jobs", "2", "--results", str(tmp_path), "--quiet")
    assert done.returncode == 0, done.stderr
    runs = pd.read_csv(tmp_path / "echo-lag" / "runs.csv")
    assert runs["seed"].tolist() == [0, 1]
    assert {"experiment", "variant", "seed", "epochs", "eval_accuracy", "final_loss",
            "train_seconds"} <= set(runs.columns)
    assert (runs["epochs"] == 4).all() and runs["eval_accuracy"].between(0, 1).all()
    curves = pd.read_csv(tmp_path / "beginners-mistake" / "curves.csv")
    assert list(curves.columns) == ["experiment", "variant", "seed", "epoch", "loss", "accuracy"]
    assert len(curves) == 2 * 4
    meta = json.loads((tmp_path / "echo-lag" / "meta.json").read_text())
    assert meta["command"].startswith("python -m bench run echo-lag")
    assert meta["keras_backend"] and meta["packages"]["keras"]
    assert meta["settings"]["stateful-lstm50"]["epochs"] == 4


@pytest.mark.slow
def test_same_command_gives_same_numbers(tmp_path):
    for name in ("a", "b"):
        assert bench("run", "echo-current", "--seeds", "2", "--epochs", "3", "--jobs", "1",
                     "--results", str(tmp_path / name), "--quiet").returncode == 0
    first, second = (pd.read_csv(tmp_path / n / "echo-current" / "curves.csv") for n in "ab")
    pd.testing.assert_frame_equal(first, second)


@pytest.mark.slow
def test_vectorized_engine_writes_the_rows_of_the_per_seed_engine(tmp_path):
    common = ("run", "echo-lag", "ignore-state", "--variants", "stateful-lstm50", "stateless",
              "--seeds", "3", "--epochs", "6", "--quiet")
    assert bench(*common, "--results", str(tmp_path / "a")).returncode == 0
    done = bench(*common, "--engine", "vectorized", "--chunk", "2", "--results", str(tmp_path / "b"))
    assert done.returncode == 0, done.stderr
    for name in ("echo-lag", "ignore-state"):
        per_seed, vectorized = (pd.read_csv(tmp_path / d / name / "runs.csv") for d in "ab")
        assert list(per_seed.columns) == list(vectorized.columns)
        keys = ["variant", "seed", "epochs", "settings_hash", "eval_accuracy"]
        pd.testing.assert_frame_equal(per_seed[keys], vectorized[keys])
        curves = [pd.read_csv(tmp_path / d / name / "curves.csv") for d in "ab"]
        pd.testing.assert_frame_equal(*curves, check_exact=False, rtol=1e-5)


@pytest.mark.slow
def test_speed_times_the_tutorial_and_both_engines_on_the_same_work(tmp_path):
    done = bench("speed", "echo-current", "--seeds", "2", "--epochs", "5", "--tutorial-epochs", "2",
                 "--json", str(tmp_path / "speed.json"))
    assert done.returncode == 0, done.stderr
    totals, phases = (part.splitlines() for part in done.stdout.split("Where the time went"))
    rows = [line.split("|") for line in totals if line.startswith("| ")][1:]
    engines = ["tutorial", "per-seed", "per-seed", "vectorized", "vectorized"]
    assert [row[1].strip() for row in rows] == engines
    assert all("2 seeds x 5 epochs" in row[2] for row in rows[1:])
    assert ["cold" in row[2] for row in rows[1:]] == [True, False, True, False]
    assert all("warm: programs loaded from the compile cache" in row[2] for row in rows[2::2])
    assert all(float(row[4]) > 0 for row in rows)
    rows = [line.split("|") for line in phases if line.startswith("| ")][1:]
    assert [row[1].strip() for row in rows] == engines[1:]
    assert all(float(value) >= 0 for row in rows for value in row[2:-1])
    assert "spent longer compiling" in done.stdout  # 5 epochs: compilation dominates
    assert [line for line in done.stderr.splitlines() if line.startswith("timing")] == [
        "timing tutorial ...", "timing per-seed ...", "timing vectorized ..."]
    stored = json.loads((tmp_path / "speed.json").read_text())
    assert stored["experiment"] == "echo-current"
    assert [s["engine"] for s in stored["speeds"]] == engines
    assert stored["speeds"][1]["phases"]["compile"] > stored["speeds"][1]["phases"]["train"]


def test_vectorized_engine_needs_jax():
    done = bench("run", "echo-lag", "--engine", "vectorized", env={"KERAS_BACKEND": "tensorflow"})
    assert done.returncode == 2 and "needs the JAX backend" in done.stderr


def test_list_shows_a_line_per_experiment_and_with_names_each_in_full():
    done = bench("list")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["echo-current", "1", "variants"] and "(baseline)" not in done.stdout
    assert any(line.startswith("masking") and "4 variants x 4 rates" in line for line in lines)
    done = bench("list", "all")
    for name in ("echo-current", "beginners-mistake", "echo-lag", "question:", "(baseline)"):
        assert name in done.stdout


@pytest.mark.parametrize("args, message", [
    (["run", "no-such"], "unknown experiment 'no-such'"),
    (["run", "echo-lag", "--seeds", "0"], "expected a positive integer up to 2,147,483,647, got 0"),
    (["run", "echo-lag", "--seeds", "many"], "expected a positive integer, got 'many'"),
    (["run", "echo-lag", "--epochs", "-3"], "expected a positive integer"),
    (["run", "echo-lag", "--jobs", "0"], "expected a positive integer"),
    (["run", "echo-lag", "--chunk", "4"], "--chunk needs --engine vectorized"),
    (["run", "echo-lag", "--engine", "fast"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
    (["compare"], "the following arguments are required: A, B\n"),  # NAME is optional
])
def test_bad_input_is_one_line_and_status_2(args, message):
    done = bench(*args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr
    assert "Traceback" not in done.stderr


def test_results_path_that_is_a_file_is_refused(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("keep me")
    done = bench("run", "echo-lag", "--seeds", "1", "--epochs", "1", "--results", str(blocker))
    assert done.returncode == 2 and "not a directory" in done.stderr
    assert blocker.read_text() == "keep me"


@pytest.mark.slow
@pytest.mark.skipif(not any((Path(p) / "tensorflow").exists() for p in sys.path if p),
                    reason="tensorflow is not installed")
def test_tensorflow_backend_runs_the_same_protocol_to_the_same_numbers(tmp_path):
    runs = {}
    for backend in ("tensorflow", "jax"):
        done = bench("run", "echo-lag", "--seeds", "1", "--epochs", "3", "--quiet",
                     "--results", str(tmp_path / backend), env={"KERAS_BACKEND": backend})
        assert done.returncode == 0, done.stderr
        meta = json.loads((tmp_path / backend / "echo-lag" / "meta.json").read_text())
        assert meta["keras_backend"] == backend
        assert len(pd.read_csv(tmp_path / backend / "echo-lag" / "curves.csv")) == 3
        runs[backend] = pd.read_csv(tmp_path / backend / "echo-lag" / "runs.csv").iloc[0]
    assert runs["tensorflow"].final_loss == pytest.approx(runs["jax"].final_loss, rel=1e-4)
    assert runs["tensorflow"].eval_accuracy == pytest.approx(runs["jax"].eval_accuracy, abs=2e-3)


def test_dask_backend_without_dask_names_the_extra(tmp_path, monkeypatch, capsys):
    import importlib.util

    from bench.cli.main import main

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *rest: None if name == "distributed" else find_spec(name, *rest))
    status = main(["run", "echo-lag", "--backend", "dask", "--results", str(tmp_path)])
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1
    assert "pip install 'echo-bench[dask]'" in error
    assert not any(tmp_path.iterdir())


def test_auto_is_the_vectorized_engine_where_a_gpu_is_visible_and_per_seed_elsewhere(monkeypatch):
    from bench.cli.arguments import chosen_engine
    from bench.run import cluster

    monkeypatch.setattr(cluster, "visible_gpus", lambda: [])
    assert chosen_engine("auto") == "per-seed" and chosen_engine("vectorized") == "vectorized"
    monkeypatch.setattr(cluster, "visible_gpus", lambda: ["0"])
    assert chosen_engine("auto") == "vectorized" and chosen_engine("per-seed") == "per-seed"
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    assert chosen_engine("auto") == "per-seed"


def test_a_run_of_keras_own_cells_loads_neither_keras_nor_scipy_in_the_command(tmp_path):
    script = ("import sys; from bench.cli.main import main; "
              f"status = main(['run', 'echo-lag', '--seeds', '1', '--epochs', '3', '--jobs', '1', "
              f"'--quiet', '--results', {str(tmp_path)!r}]); "
              "print(status, *(m in sys.modules for m in ('keras', 'jax', 'scipy.stats')))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.stdout.split()[-4:] == ["0", "False", "False", "False"], done.stderr
    assert len(pd.read_csv(tmp_path / "echo-lag" / "runs.csv")) == 1
