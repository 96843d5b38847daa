"""The examples run as a user runs them, and the Python API they use returns what it says."""

import subprocess
import sys

import pandas as pd
import pytest

import bench
from bench.store.directory import StoreError

from helpers import ROOT


@pytest.mark.slow
def test_the_python_example_runs_on_the_committed_results(tmp_path):
    done = subprocess.run([sys.executable, "examples/explore_results.py", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "masking-layer" in done.stdout and "held-out accuracy" in done.stdout
    assert (tmp_path / "masking-seeds.png").stat().st_size > 0


def test_load_gives_runs_and_curves_of_every_experiment_with_how_they_were_made():
    runs, curves = bench.load(ROOT / "results")
    assert set(runs["experiment"]) == {p.parent.name for p in (ROOT / "results").glob("*/runs.csv")}
    assert {"engine", "backend", "device", "finished_at", "settings_hash"} <= set(runs.columns)
    assert len(runs.merge(curves[["experiment", "variant", "seed"]].drop_duplicates())) == len(runs)
    only, _ = bench.load(ROOT / "results", ["echo-lag"])
    pd.testing.assert_frame_equal(only, runs[runs["experiment"] == "echo-lag"].reset_index(drop=True),
                                  check_dtype=False)
    with pytest.raises(StoreError, match="no results for 'nope'"):
        bench.load(ROOT / "results", ["nope"])


def _code(markdown: str, marker: str) -> str:
    """The fenced code block of `markdown` that contains `marker`."""
    return next(block.partition("\n")[2] for block in markdown.split("```")[1::2] if marker in block)


def test_every_test_and_doc_file_the_docs_name_exists():
    import re

    named = {(page.name, path) for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
             for path in re.findall(r"\b(?:tests|docs|examples)/[\w/]+\.(?:py|md)", page.read_text())}
    assert named and not [(page, path) for page, path in named if not (ROOT / path).is_file()]


def test_the_readmes_own_experiment_runs_as_written(tmp_path, monkeypatch, fake_workers, capsys):
    from bench.cli.main import main
    from experiments import USER_PATHS

    readme = (ROOT / "README.md").read_text()
    module = tmp_path / "my_experiments" / "small_units.py"
    module.parent.mkdir()
    module.write_text(_code(readme, 'name="small-units"'))
    command = _code(readme, "bench run small-units").splitlines()[0].partition(" -m bench ")[2]
    monkeypatch.delenv(USER_PATHS, raising=False)
    monkeypatch.chdir(tmp_path)
    fake_workers()
    assert main(command.partition("#")[0].split()) == 0
    assert set(pd.read_csv(tmp_path / "my_experiments" / "results" / "small-units" / "runs.csv")
               ["variant"]) == {"units50", "units10"}
    assert main(["report", "--experiments", "my_experiments/"]) == 0
    assert (tmp_path / "my_experiments" / "results" / "reports" / "small-units.md").is_file()


@pytest.mark.slow
def test_the_from_python_snippet_prints_what_it_found(tmp_path):
    snippet = _code((ROOT / "docs" / "extending.md").read_text(), "bench.load(")
    script = tmp_path / "snippet.py"
    script.write_text(snippet.replace('bench.load("results")', f'bench.load("{ROOT / "results"}")'))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "beginners-mistake  stateful-lstm50" in done.stdout and "Phases(setup=" in done.stdout
    assert (tmp_path / "masking-seeds.png").stat().st_size > 0
