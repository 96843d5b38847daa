"""The results store in-process, without training: merges that survive a kill at every file
operation, whole-variant replacement, one writer at a time, and validation on load."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from bench import store as store_module
from bench.plan import Refused, Stored, plan_run
from bench.store import Busy, ExperimentStore, StoreError, settings_hash
from bench.tasks import Task
from echo.records import Curves, Run
from echo.setup import Setup

SETUP = Setup(epochs=7)
OTHER = SETUP.replace(epochs=9)


def task(seed, setup=SETUP, variant="v"):
    return Task("exp", variant, seed, setup)


def result(seed, setup=SETUP):
    rng = np.random.default_rng(seed)
    curves = Curves(rng.random(setup.epochs).astype(np.float32),
                    rng.random(setup.epochs).astype(np.float32), 0.5)
    scores = {"eval_accuracy": 0.5 + seed / 100, "eval_accuracy_incomplete": float("nan"),
              "eval_sequence_accuracy": float("nan")}
    return Run(scores, float(curves.loss[-1]), 1.5, curves)


def meta(setup=SETUP, every=1):
    return {"experiment": "exp", "question": "q", "claim": "", "baseline": "v", "notes": "",
            "variants": ["v"], "descriptions": {"v": setup.describe()},
            "settings": {"v": dict(vars(setup))}, "curve_every": every, "keras_backend": "jax",
            "git_commit": None}


def invocation(started="t0", runs=0, failed=0):
    return {"command": "python -m bench run exp", "started": started, "wall_seconds": 1.0,
            "runs": runs, "failed": failed, "status": "finished", "git_commit": None}


def filled(directory, seeds, setup=SETUP, every=1):
    store = ExperimentStore(directory / "exp")
    with store.writer():
        for seed in seeds:
            store.stage([(task(seed, setup), result(seed, setup))], every)
        store.merge([], meta(setup, every), invocation(runs=len(seeds)))
    return store


def keys(runs):
    return list(zip(runs["variant"], runs["seed"]))


def test_staged_runs_merge_once_and_load_as_they_were_stored(tmp_path):
    store = filled(tmp_path, [0, 1, 2])
    runs, curves = store.load()
    assert keys(runs) == [("v", 0), ("v", 1), ("v", 2)]
    assert (runs["settings_hash"] == settings_hash(SETUP)).all()
    assert runs.loc[1, "eval_accuracy"] == 0.51
    assert curves.groupby("seed")["epoch"].apply(list).tolist() == [list(range(1, 8))] * 3
    np.testing.assert_array_equal(curves.query("seed == 2")["loss"], result(2).curves.loss)
    assert not list(store.staging.iterdir())
    written = json.loads((store.directory / "meta.json").read_text())
    assert written["seeds"] == [0, 1, 2] and written["invocations"][0]["runs"] == 3


def test_a_chunks_runs_are_staged_in_one_file_and_merge_as_if_staged_one_by_one(tmp_path):
    one_by_one = filled(tmp_path / "single", [0, 1, 2], every=3)
    together = ExperimentStore(tmp_path / "chunk" / "exp")
    with together.writer():
        together.stage([(task(seed), result(seed)) for seed in (0, 1, 2)], 3)
        assert [p.name for p in together.staging.iterdir()] == ["v--seeds-0-to-2-3.npz"]
        together.merge([], meta(every=3), invocation(runs=3))
    (runs, curves), (chunk_runs, chunk_curves) = one_by_one.load(), together.load()
    pd.testing.assert_frame_equal(curves, chunk_curves)
    pd.testing.assert_frame_equal(runs.drop(columns="finished_at"),
                                  chunk_runs.drop(columns="finished_at"))
    assert (one_by_one.directory / "curves.csv").read_bytes() == (
        together.directory / "curves.csv").read_bytes()


def test_a_run_staged_as_json_by_an_earlier_version_is_merged(tmp_path):
    store = filled(tmp_path, [0])
    earlier = result(1)
    row = store_module.run_row(task(1), earlier)
    (store.staging / "v--seed-1.json").write_text(json.dumps({
        "row": row, "curve_every": 1, "curves": {
            "epoch": list(range(1, 8)), "loss": earlier.curves.loss.tolist(),
            "accuracy": earlier.curves.accuracy.tolist()}}, default=store_module._plain))
    runs, curves = store.load()
    assert keys(runs) == [("v", 0), ("v", 1)]
    np.testing.assert_array_equal(curves.query("seed == 1")["loss"], earlier.curves.loss)


def test_a_seed_staged_twice_is_refused_naming_the_folder(tmp_path):
    store = filled(tmp_path, [0])
    store.stage([(task(seed), result(seed)) for seed in (1, 2)])
    store.stage([(task(2), result(2))])
    with pytest.raises(StoreError, match="holds v seed 2 twice"):
        store.load()


class Killed(BaseException):
    """Stands for SIGKILL at a file operation: nothing after it runs."""


def killed_after(monkeypatch, operations):
    """Make the store's file operations (writes by rename, unlinks) stop after `operations`."""
    count = {"done": 0}
    write, unlink = store_module._atomic_write, store_module.Path.unlink

    def step():
        if count["done"] == operations:
            raise Killed()
        count["done"] += 1

    def killable_write(path, data):
        step()
        write(path, data)

    def killable_unlink(path, *args, **kwargs):
        step()
        unlink(path, *args, **kwargs)

    monkeypatch.setattr(store_module, "_atomic_write", killable_write)
    monkeypatch.setattr(store_module.Path, "unlink", killable_unlink)


@pytest.mark.parametrize("setup, expected", [
    (SETUP, [0, 1, 2, 3]),  # two new seeds join two stored ones
    (OTHER, [2, 3]),  # other settings replace the whole variant, never part of it
])
def test_a_merge_killed_at_any_file_operation_loses_and_mixes_nothing(
        tmp_path, monkeypatch, setup, expected):
    for operations in range(6):
        directory = tmp_path / str(operations)
        store = filled(directory, [0, 1])
        for seed in (2, 3):
            store.stage([(task(seed, setup), result(seed, setup))])
        with monkeypatch.context() as patch:
            killed_after(patch, operations)
            try:
                store.merge([], meta(setup), invocation("t1", runs=2))
            except Killed:
                pass
        for _ in range(2):  # as a reader sees it, then after the next command's merge
            runs, curves = store.load()
            assert runs["seed"].tolist() == expected, operations
            assert set(runs["settings_hash"]) == {settings_hash(setup)}
            assert curves.groupby("seed").size().to_dict() == {s: setup.epochs for s in expected}
            store.merge([], meta(setup), invocation("t2"))
        assert not list(store.staging.iterdir())


def test_one_writer_at_a_time_and_temporaries_cleaned(tmp_path):
    store = ExperimentStore(tmp_path / "exp")
    with store.writer():
        with pytest.raises(Busy, match=f"pid {os.getpid()}"):
            with ExperimentStore(tmp_path / "exp").writer():
                pass
        (store.directory / ".tmp-runs.csv.abc").write_text("half")
        (store.staging / ".tmp-v--seed-1.json.abc").write_text("half")
    with store.writer():
        assert not list(store.directory.glob(".tmp-*")) and not list(store.staging.iterdir())


def test_meta_is_rewritten_by_the_next_merge_when_lost(tmp_path):
    store = filled(tmp_path, [0, 1])
    (store.directory / "meta.json").unlink()
    with store.writer():
        store.merge([], meta(), invocation("t1"))
    healed = json.loads((store.directory / "meta.json").read_text())
    assert healed["seeds"] == [0, 1] and healed["settings"]["v"]["epochs"] == 7


def test_curves_kept_as_block_means_and_checked_against_their_granularity(tmp_path):
    store = filled(tmp_path, [0], every=3)
    runs, curves = store.load()
    assert curves["epoch"].tolist() == [3, 6, 7]
    assert curves["loss"].iloc[0] == pytest.approx(result(0).curves.loss[:3].mean())
    store.stage([(task(1), result(1))], 1)
    with pytest.raises(StoreError, match="curves every 1 epochs, the results every 3"):
        store.load()


def rewrite(path, change):
    table = pd.read_csv(path, dtype=str)
    change(table).to_csv(path, index=False)


@pytest.mark.parametrize("damage, message", [
    (lambda d: rewrite(d / "runs.csv", lambda t: pd.concat([t, t.iloc[[1]]])),
     "runs.csv line 4 repeats v seed 1"),
    (lambda d: rewrite(d / "runs.csv", lambda t: t.assign(
        settings_hash=["aaaaaaaaaaaa", *t["settings_hash"][1:]])), "runs.csv line 3 holds v seed 1"),
    (lambda d: rewrite(d / "runs.csv", lambda t: t.assign(extra=1)), "unknown columns extra"),
    (lambda d: rewrite(d / "runs.csv", lambda t: t.drop(columns="cell")), "lacks the columns cell"),
    (lambda d: rewrite(d / "runs.csv", lambda t: t.assign(experiment="other")),
     "runs.csv line 2 belongs to experiment 'other'"),
    (lambda d: rewrite(d / "curves.csv", lambda t: t.drop(index=3)), "lacks curve points of v seed 0"),
    (lambda d: rewrite(d / "curves.csv", lambda t: pd.concat([t, t.iloc[[0]].assign(epoch="8")])),
     "epoch 8 is not a curve point of v seed 0"),
    (lambda d: rewrite(d / "curves.csv", lambda t: pd.concat([t, t.iloc[[0]].assign(seed="5")])),
     "has a curve for v seed 5, which has no run"),
    (lambda d: rewrite(d / "curves.csv", lambda t: pd.concat([t, t.iloc[[0]]])),
     "repeats v seed 0 epoch 1"),
    (lambda d: (d / "errors.csv").write_text(""), "errors.csv is malformed"),
    (lambda d: (d / ".staging" / "v--seed-4.json").write_text("{"), "staged run"),
    (lambda d: (d / ".staging" / "x.json").mkdir(), "staged run"),
    (lambda d: (d / ".staging" / "v--seeds-4-to-5-2.npz").write_bytes(b"PK\x03\x04cut"),
     "staged run"),
    (lambda d: ((d / "runs.csv").unlink(), (d / "runs.csv").mkdir()), "runs.csv is malformed or unreadable"),
    (lambda d: (d / "meta.json").write_text("[]"), "not a JSON object"),
])
def test_damaged_results_are_refused_naming_the_file_and_line(tmp_path, damage, message):
    store = filled(tmp_path, [0, 1])
    damage(store.directory)
    with pytest.raises(StoreError, match=message.replace("(", r"\(")):
        store.load()
        store.errors()


def test_the_plan_skips_what_is_stored_and_refuses_other_settings_unless_forced():
    tasks = [task(seed) for seed in range(3)]
    stored = {"exp": Stored("R/exp", {("v", 0): settings_hash(SETUP)}, 1)}
    plan = plan_run(tasks, stored)
    assert [t.seed for t in plan.todo] == [1, 2] and plan.skipped == 1 and plan.curve_every == 1
    assert len(plan_run(tasks, stored, force=True).todo) == 3
    with pytest.raises(Refused, match="R/exp holds v seed 0 made with other settings"):
        plan_run([task(seed, OTHER) for seed in range(3)], stored)
    assert len(plan_run([task(seed, OTHER) for seed in range(3)], stored, force=True).todo) == 3
    with pytest.raises(Refused, match="stores curves every 1 epochs, not 10"):
        plan_run(tasks, stored, curve_every=10)
    assert plan_run(tasks, {"exp": Stored("R/exp", {("v", 0): settings_hash(SETUP)}, 10)}
                    ).curve_every == 10


def test_a_field_added_with_its_default_leaves_every_fingerprint_as_it_was():
    settings = dict(vars(SETUP))
    settings.pop("score_from")
    assert store_module.hash_of_settings(settings) == settings_hash(SETUP)
    assert settings_hash(SETUP.replace(score_from=5)) != settings_hash(SETUP)


def test_every_committed_run_has_its_variants_fingerprint():
    from pathlib import Path

    from experiments import EXPERIMENTS

    results = Path(__file__).resolve().parents[1] / "results"
    for name, experiment in EXPERIMENTS.items():
        runs, _ = ExperimentStore(results / name).load()
        for variant, setup in experiment.variants.items():
            stored = set(runs.loc[runs["variant"] == variant, "settings_hash"])
            assert stored == {settings_hash(setup)}, (name, variant)


def test_settings_columns_a_file_predates_are_read_from_its_meta(tmp_path):
    setup = SETUP.replace(length=30, score_from=4)
    store = filled(tmp_path, [0, 1], setup)
    path = store.directory / "runs.csv"
    table = pd.read_csv(path, dtype={"settings_hash": str})
    later = ["length", "n_unique", "eval_sequences", "score_from", *store_module.PROVENANCE_COLUMNS]
    table.drop(columns=later).to_csv(path, index=False)  # as format 1 wrote it
    runs, _ = store.load()
    assert runs["length"].tolist() == [30, 30] and runs["score_from"].tolist() == [4, 4]
    assert runs["eval_sequences"].tolist() == [setup.eval_sequences] * 2
    assert list(runs.columns) == store_module.RUN_COLUMNS
    assert {c for c in vars(Setup()) if c != "epochs"} <= set(runs.columns)  # every field a column


def test_a_run_that_keeps_failing_is_recorded_once_and_the_store_stays_readable(tmp_path):
    store = ExperimentStore(tmp_path / "exp")
    failed = {"experiment": "exp", "variant": "v", "seed": 3, "settings_hash": settings_hash(SETUP),
              "error": "boom"}
    for attempt in ("t1", "t2", "t3"):
        with store.writer():
            store.stage([(task(0), result(0))])
            store.merge([failed], meta(), invocation(attempt, runs=1, failed=1))
    errors = pd.read_csv(store.directory / "errors.csv")
    assert list(errors.columns) == store_module.ERROR_COLUMNS
    assert errors[["variant", "seed", "error"]].values.tolist() == [["v", 3, "boom"]]
    assert store.errors()["seed"].tolist() == [3] and keys(store.load()[0]) == [("v", 0)]
