"""A user's own experiment, outside the package: listed, run and reported, framing and all."""

import pandas as pd
import pytest

from helpers import bench

MODULE = '''"""A user's own experiment with a framing of its own."""
from echo import framings
from echo.experiment import Contrast, Experiment
from echo.setup import FRAMINGS, Framing, Setup


def reversed_window(sequences, setup):
    framed = framings.lag_with_window(sequences, setup.window, setup.lag)
    return framings.Framed(framed.X[..., ::-1].copy(), framed.y, framed.t)


FRAMINGS["reversed_window"] = Framing(
    reversed_window, lambda setup: f"window {setup.window} read backwards, y(t) = X(t-{setup.lag})")

EXPERIMENT = Experiment(
    name="reversed-echo",
    question="Does reading the window backwards change skill?",
    variants={"forward": Setup(units=10, epochs=3, eval_sequences=5),
              "backwards": Setup(framing="reversed_window", units=10, epochs=3, eval_sequences=5)},
    contrasts=(Contrast("backwards", "forward"),),
)
'''


@pytest.mark.slow
def test_an_experiment_outside_the_package_is_listed_run_and_reported(tmp_path):
    module = tmp_path / "mine:v2" / "reversed_echo.py"  # a ':' in the path reaches the workers
    module.parent.mkdir()
    module.write_text(MODULE)
    listed = bench("list", "reversed-echo", "--experiments", str(module.parent))
    assert listed.returncode == 0, listed.stderr
    assert "window 5 read backwards, y(t) = X(t-1)" in listed.stdout
    results = tmp_path / "results"
    done = bench("run", "reversed-echo", "--experiments", str(module), "--seeds", "2", "--quiet",
                 "--results", str(results))
    assert done.returncode == 0, done.stderr
    runs = pd.read_csv(results / "reversed-echo" / "runs.csv")
    stored = set(zip(runs["variant"], runs["seed"]))
    assert len(runs) == 2 * 4 * 2  # 4 learning rates by default
    assert {("backwards", 0), ("forward", 1), ("backwards[learning_rate=0.01]", 1)} <= stored
    reported = bench("report", "--experiments", str(module), "--results", str(results))
    assert reported.returncode == 0, reported.stderr
    page = (results / "reports" / "reversed-echo.md").read_text()
    assert "backwards vs forward" in page and "## Learning rates" in page


@pytest.mark.parametrize("content, message", [
    (None, "not a Python module or a folder of them"),
    ("def broken(:\n", "cannot load experiments from"),
    ("X = 1\n", "declares no experiment"),
    ("import sys\nsys.exit(0)\n", "SystemExit: 0"),
    ("from echo.experiment import Experiment\nfrom echo.setup import Setup\n"
     "EXPERIMENT = Experiment(name='../escaped', question='q', variants={'a': Setup()})\n",
     "is not a plain folder name"),
    ("from echo.experiment import Experiment\nfrom echo.setup import Setup\n"
     "EXPERIMENT = Experiment(name='short', question='q', variants={'a': Setup(length=3)})\n",
     "short / a: the lag_with_window framing makes no rows"),
    ("from experiments.echo_lag import EXPERIMENT as E\nfrom dataclasses import replace\n"
     "EXPERIMENT = replace(E, notes='again')\n", "has the name of another experiment"),
    ("from echo.experiment import Contrast, Experiment\nfrom echo.setup import Setup\n"
     "EXPERIMENT = Experiment(name='x', question='q', variants={'a': Setup(), 'b': Setup()}, "
     "contrasts=(Contrast('a', 'b', float('nan')),))\n", "delta must lie in (0, 1), got nan"),
    ("from echo.experiment import Experiment\nfrom echo.setup import Setup\n"
     "EXPERIMENT = Experiment(name='x', question='q', variants={'a': Setup()}, "
     "claim_tolerance=-1)\n", "claim_tolerance must lie in [0, 1), got -1"),
])
def test_a_bad_module_is_one_line_and_status_2(tmp_path, content, message):
    module = tmp_path / "user.py"
    if content is not None:
        module.write_text(content)
    done = bench("list", "--experiments", str(module))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr


CELL = '''import keras
from keras import ops


class MinimalRNNCell(keras.layers.Layer):
    """h = tanh(x W + h U): the smallest recurrent cell."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.kernel_initializer = keras.initializers.get("glorot_uniform")
        self.recurrent_initializer = keras.initializers.get("orthogonal")

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer=self.kernel_initializer, name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer=self.recurrent_initializer,
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        h = ops.tanh(ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel))
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units}
'''


@pytest.mark.slow
def test_a_cell_given_by_import_path_runs_and_gets_its_scorecard(tmp_path):
    (tmp_path / "mycells.py").write_text(CELL)
    env = {"PYTHONPATH": str(tmp_path)}
    common = ["--seeds", "2", "--epochs", "3", "--quiet"]
    done = bench("run", "echo-lag", "--set", "cell=mycells:MinimalRNNCell", *common,
                 "--results", str(tmp_path / "mine"), env=env)
    assert done.returncode == 0, done.stderr
    runs = pd.read_csv(tmp_path / "mine" / "echo-lag" / "runs.csv")
    assert set(runs["variant"]) == {"stateful-lstm50[cell=mycells:MinimalRNNCell]"}
    assert bench("run", "echo-lag", *common, "--results", str(tmp_path / "lstm")).returncode == 0
    card = bench("scorecard", "mycells:MinimalRNNCell", "--results", str(tmp_path / "mine"),
                 "--reference", str(tmp_path / "lstm"), "--out", str(tmp_path / "card.md"), env=env)
    assert card.returncode == 0, card.stderr
    page = (tmp_path / "card.md").read_text()
    row = next(line for line in page.splitlines() if line.startswith("| stateful-lstm50 |"))
    assert "(n = 2)" in row and any(v in row for v in ("better", "worse", "equivalent", "undecided"))
    missing = bench("run", "echo-lag", "--set", "cell=nowhere:Cell", "--results", str(tmp_path / "x"))
    assert missing.returncode == 2 and "cell 'nowhere:Cell' cannot be imported" in missing.stderr
    for cell in ("nowhere:Cell", "mycells:Nowhere"):
        card = bench("scorecard", cell, "--results", str(tmp_path / "mine"), env=env)
        assert card.returncode == 2 and card.stderr.count("\n") == 1, card.stderr
        assert f"cell '{cell}' cannot be imported" in card.stderr


@pytest.mark.slow
def test_the_bench_script_imports_cells_from_the_working_folder_as_python_m_bench_does(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "mycells.py").write_text(CELL)
    script = Path(sys.executable).parent / "bench"
    done = subprocess.run([str(script), "run", "echo-current", "--set", "cell=mycells:Missing",
                           "--seeds", "1", "--results", str(tmp_path / "r")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 2 and "cannot be imported (AttributeError" in done.stderr, done.stderr


@pytest.mark.slow
def test_a_module_that_fails_only_in_the_workers_fails_its_runs_in_one_line_each(tmp_path):
    module = tmp_path / "main_only.py"
    module.write_text("import multiprocessing\n"
                      "if multiprocessing.parent_process() is not None:\n"
                      "    raise RuntimeError('not in a worker')\n" + MODULE)
    done = bench("run", "reversed-echo", "--experiments", str(module), "--seeds", "1", "--quiet",
                 "--rates", "0.001", "--results", str(tmp_path / "results"))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    errors = pd.read_csv(tmp_path / "results" / "reversed-echo" / "errors.csv")
    assert len(errors) == 2 and errors["error"].str.startswith(
        f"in a worker: cannot load experiments from {module}: RuntimeError: not in a worker").all()


def test_installed_packages_offer_experiments_by_entry_point(monkeypatch):
    import dataclasses

    import experiments
    from echo.experiment import Experiment

    offered = dataclasses.replace(experiments.discover()["echo-lag"], name="offered-echo")

    class Entry:
        name, value = "offered", "their_package.experiments:EXPERIMENT"

        def load(self):
            return offered

    monkeypatch.setattr(experiments, "entry_points",
                        lambda group: [Entry()] if group == experiments.ENTRY_POINTS else [])
    found = experiments.discover()
    assert isinstance(found["offered-echo"], Experiment) and list(found)[-1] == "offered-echo"
    assert list(found)[:3] == ["echo-current", "beginners-mistake", "echo-lag"]


def test_a_users_experiment_keeps_its_results_in_its_own_folder_unless_told(tmp_path, monkeypatch,
                                                                              fake_workers, capsys):
    from bench.cli.main import main
    from experiments import USER_PATHS

    monkeypatch.delenv(USER_PATHS, raising=False)  # the command sets it for its workers
    monkeypatch.chdir(tmp_path)
    fake_workers()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "reversed_echo.py").write_text(MODULE)
    (tmp_path / "alone.py").write_text(MODULE.replace('"reversed-echo"', '"alone"'))
    quick = ["--seeds", "1", "--rates", "0.001", "--quiet"]
    assert main(["run", "reversed-echo", "--experiments", "mine", *quick]) == 0
    assert main(["run", "alone", "--experiments", "alone.py", *quick]) == 0
    assert (tmp_path / "mine" / "results" / "reversed-echo" / "runs.csv").is_file()
    assert (tmp_path / "alone-results" / "alone" / "runs.csv").is_file()
    assert not (tmp_path / "results").exists()
    capsys.readouterr()
    assert main(["report", "--experiments", "mine"]) == 0
    page = "mine/results/reports/reversed-echo.md"
    assert (tmp_path / page).is_file()
    assert f"report of reversed-echo: {page} (index: " in capsys.readouterr().out
    assert main(["run", "echo-lag", "reversed-echo", "--experiments", "mine", *quick]) == 2
    err = capsys.readouterr().err
    assert "keep their results apart (mine/results/, results/); run them apart, or give one " \
        "--results" in err and err.count("\n") == 1
    assert main(["run", "echo-lag", "reversed-echo", "--experiments", "mine", *quick,
                 "--results", "both"]) == 0
