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
    module = tmp_path / "mine" / "reversed_echo.py"
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
    assert sorted(zip(runs["variant"], runs["seed"])) == [("backwards", 0), ("backwards", 1),
                                                          ("forward", 0), ("forward", 1)]
    reported = bench("report", "--experiments", str(module), "--results", str(results))
    assert reported.returncode == 0, reported.stderr
    page = (results / "reports" / "reversed-echo.md").read_text()
    assert "backwards vs forward" in page


@pytest.mark.parametrize("content, message", [
    (None, "not a Python module or a folder of them"),
    ("def broken(:\n", "cannot load experiments from"),
    ("X = 1\n", "declares no experiment"),
    ("from experiments.echo_lag import EXPERIMENT as E\nfrom dataclasses import replace\n"
     "EXPERIMENT = replace(E, notes='again')\n", "has the name of another experiment"),
])
def test_a_bad_module_is_one_line_and_status_2(tmp_path, content, message):
    module = tmp_path / "user.py"
    if content is not None:
        module.write_text(content)
    done = bench("list", "--experiments", str(module))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
