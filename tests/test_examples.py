"""The examples run as a user runs them, and the Python API they use returns what it says."""

import subprocess
import sys

import pandas as pd
import pytest

import bench
from bench.store.directory import StoreError

from helpers import ROOT


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
