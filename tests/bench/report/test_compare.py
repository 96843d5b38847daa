"""`bench compare`: two results directories paired run by run."""

import shutil

import numpy as np
import pandas as pd
import pytest

from bench.report.compare import compare_runs, decided, table
from bench.report.wording import decision_label
from bench.stats.estimates import decide_differences
from echo.experiment import Contrast

from helpers import bench


def runs(variant_seeds, accuracy=0.5, loss=1.0, settings="abc"):
    return pd.DataFrame([{"variant": v, "seed": s, "settings_hash": settings,
                          "eval_accuracy": accuracy + s / 100, "final_loss": loss + s}
                         for v, seeds in variant_seeds.items() for s in seeds])


def test_runs_are_paired_by_variant_seed_and_settings():
    a = runs({"x": [0, 1, 2], "y": [0]})
    b = runs({"x": [0, 1, 2, 3], "y": [0]}, accuracy=0.6)
    b.loc[b["variant"] == "y", "settings_hash"] = "other"
    x, y = compare_runs("e", a, b)
    assert (x.pairs, x.only_a, x.only_b) == (3, 0, 1)
    assert x.accuracy.value == pytest.approx(0.1) and x.largest == pytest.approx(0.1)
    assert x.accuracy.low == pytest.approx(0.1) and x.loss.value == 0  # the same gap on every seed
    assert (y.pairs, y.only_a, y.only_b) == (0, 1, 1) and y.accuracy.n == 0


def test_the_interval_is_the_paired_t_interval():
    a = runs({"x": range(5)})
    b = a.assign(eval_accuracy=a["eval_accuracy"] + [0.01, -0.02, 0.03, 0.0, 0.02])
    (x,) = compare_runs("e", a, b)
    d = np.array([0.01, -0.02, 0.03, 0.0, 0.02])
    half = 2.7764451051977987 * d.std(ddof=1) / np.sqrt(5)  # t(0.975, 4)
    assert (x.accuracy.low, x.accuracy.high) == pytest.approx((d.mean() - half, d.mean() + half))
    assert x.largest == pytest.approx(0.03)


def test_each_variant_is_decided_b_against_a_in_the_contrasts_words_holm_across_variants():
    a = runs({"big": range(6), "small": range(6), "same": range(6), "lone": [0]})
    noise = np.array([1, -1, 2, -2, 1, -1]) * 1e-4
    shifts = {"big": 0.05, "small": 0.001, "same": 0.0}
    b = pd.concat([a[a["variant"] == v].assign(eval_accuracy=a.loc[a["variant"] == v, "eval_accuracy"]
                                               + shift + noise)
                   for v, shift in shifts.items()])
    compared = decided(compare_runs("e", a, b))
    labels = {c.variant: decision_label(c.decision) if c.decision else None for c in compared}
    assert labels == {"big": "better", "small": "negligibly better", "same": "equivalent",
                      "lone": None}
    expected = decide_differences([c.differences for c in compared[:3]],
                                  [Contrast("B", "A")] * 3)
    assert [c.decision.p_holm for c in compared[:3]] == [d.p_holm for d in expected]
    assert compared[0].decision.p_holm > compared[0].decision.p  # corrected across the three
    assert "negligibly better" in "\n".join(table(compared))


@pytest.mark.slow
def test_the_same_command_twice_compares_equal_and_a_change_beyond_the_tolerance_fails(tmp_path):
    for side in "ab":
        done = bench("run", "echo-current", "--seeds", "2", "--epochs", "3", "--quiet",
                     "--results", str(tmp_path / side))
        assert done.returncode == 0, done.stderr
    made = pd.read_csv(tmp_path / "a" / "echo-current" / "runs.csv").iloc[0]
    assert (made.engine, made.backend, made.device) == ("per-seed", "loky", "cpu")
    assert pd.Timestamp(made.finished_at).tz is not None
    same = bench("compare", str(tmp_path / "a"), str(tmp_path / "b"), "--tolerance", "1e-9")
    assert same.returncode == 0, same.stderr
    row = next(line for line in same.stdout.splitlines() if line.startswith("| echo-current"))
    assert [cell.strip() for cell in row.split("|")[3:10]] == [
        "2", "+0.0000 [+0.0000, +0.0000]", "equivalent", "0.0000", "+0.0000 [+0.0000, +0.0000]",
        "0", "0"]
    changed = tmp_path / "b" / "echo-current" / "runs.csv"
    table = pd.read_csv(changed, dtype={"settings_hash": str})
    table.loc[0, "eval_accuracy"] = table.loc[0, "eval_accuracy"] - 0.01
    table.to_csv(changed, index=False)
    differs = bench("compare", str(tmp_path / "a"), str(tmp_path / "b"), "--tolerance", "0.005")
    assert differs.returncode == 1 and "echo-current/lstm15 (0.0100)" in differs.stderr
    shutil.rmtree(tmp_path / "b" / "echo-current")
    none = bench("compare", str(tmp_path / "a"), str(tmp_path / "b"))
    assert none.returncode == 2 and none.stderr.count("\n") == 1 and "no experiment in common" in none.stderr
