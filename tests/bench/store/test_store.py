"""The results store in-process, without training: merges that survive a kill at every file
operation, whole-variant replacement, one writer at a time, and validation on load."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.run.plan import Refused, Stored, plan_run
from bench.run.tasks import Task
from bench.store import files, schema, staging
from bench.store.directory import Busy, ExperimentStore, StoreError
from bench.store.files import SetAside
from bench.store.schema import settings_hash
from echo.records import Curves, Run
from echo.setup import Setup

from helpers import ROOT

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
    loaded = store.load()
    runs, curves = loaded.runs, loaded.curves
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
        staged = f"{files.file_stem('v')}--seeds-0-to-2-3.npz"
        assert [p.name for p in together.staging.iterdir()] == [staged]
        together.merge([], meta(every=3), invocation(runs=3))
    alone, chunked = one_by_one.load(), together.load()
    runs, curves, chunk_runs, chunk_curves = alone.runs, alone.curves, chunked.runs, chunked.curves
    pd.testing.assert_frame_equal(curves, chunk_curves)
    pd.testing.assert_frame_equal(runs.drop(columns="finished_at"),
                                  chunk_runs.drop(columns="finished_at"))
    assert (one_by_one.directory / "curves.csv").read_bytes() == (
        together.directory / "curves.csv").read_bytes()


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
    write, unlink = files.atomic_write, Path.unlink

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

    monkeypatch.setattr(files, "atomic_write", killable_write)
    monkeypatch.setattr(Path, "unlink", killable_unlink)


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
            loaded = store.load()
            runs, curves = loaded.runs, loaded.curves
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
        (store.directory / ".tmp-runs.csv.k2j_9x0a").write_text("half")
        (store.staging / ".tmp-v-4c94485e--seeds-0-to-2-3.npz.abcdefgh").write_text("half")
        (store.directory / ".tmp-a1b2c3d4").write_text("a writability probe")
        users = [store.directory / name for name in (".runs.csv.old", ".tmp-notes", "tmp-x.abcdefgh")]
        for path in users:
            path.write_text("the user's")
    with store.writer():
        assert not list(store.staging.iterdir())
        assert sorted(store.directory.glob(".tmp-*")) == [store.directory / ".tmp-notes"]
        assert all(path.read_text() == "the user's" for path in users)


def test_meta_is_rewritten_by_the_next_merge_when_lost(tmp_path):
    store = filled(tmp_path, [0, 1])
    (store.directory / "meta.json").unlink()
    with store.writer():
        store.merge([], meta(), invocation("t1"))
    healed = json.loads((store.directory / "meta.json").read_text())
    assert healed["seeds"] == [0, 1] and healed["settings"]["v"]["epochs"] == 7


def test_curves_kept_as_block_means_and_checked_against_their_granularity(tmp_path):
    store = filled(tmp_path, [0], every=3)
    curves = store.load().curves
    assert curves["epoch"].tolist() == [3, 6, 7]
    assert curves["loss"].iloc[0] == pytest.approx(result(0).curves.loss[:3].mean())
    store.stage([(task(1), result(1))], 1)
    with pytest.warns(SetAside, match="curves every 1 epochs, the results every 3: left out"):
        assert store.load().runs["seed"].tolist() == [0]


def rewrite(path, change):
    table = pd.read_csv(path, dtype=str)
    change(table).to_csv(path, index=False)


@pytest.mark.parametrize("damage, message", [
    (lambda d: rewrite(d / "runs.csv", lambda t: pd.concat([t, t.iloc[[1]]])),
     "runs.csv line 4 repeats v seed 1"),
    (lambda d: rewrite(d / "runs.csv", lambda t: t.assign(
        settings_hash=["aaaaaaaaaaaa", *t["settings_hash"][1:]])),
     "runs.csv line 2: its settings columns are not those its settings_hash aaaaaaaaaaaa"),
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
    (lambda d: ((d / "runs.csv").unlink(), (d / "runs.csv").mkdir()), "runs.csv is malformed or unreadable"),
    (lambda d: (d / "meta.json").write_text("[]"), "not a JSON object"),
])
def test_damaged_results_are_refused_naming_the_file_and_line(tmp_path, damage, message):
    store = filled(tmp_path, [0, 1])
    damage(store.directory)
    with pytest.raises(StoreError, match=message.replace("(", r"\(")):
        store.load()
        store.errors()


@pytest.mark.parametrize("damage, message", [
    (lambda s: (s.staging / "v--seed-4.json").write_text("{"), "is unreadable"),
    (lambda s: (s.staging / "x.json").mkdir(), "is unreadable"),
    (lambda s: (s.staging / "v--seeds-4-to-5-2.npz").write_bytes(b"PK\x03\x04cut"), "is unreadable"),
    (lambda s: restage(s.directory, lambda row: {**row, "final_loss": None}),
     "run row 1, column final_loss: empty is not a finite number"),
    (lambda s: restage(s.directory, lambda row: {**row, "eval_accuracy": float("nan")}),
     "run row 1, column eval_accuracy: empty is not"),
    (lambda s: restage(s.directory, lambda row: {**row, "seed": 2.5}),
     "run row 1, column seed: 2.5 is not an integer"),
    (lambda s: restage(s.directory, lambda row: {**row, "seed": "x"}),
     "run row 1, column seed: 'x' is not an integer"),
    (lambda s: restage(s.directory, lambda row: {**row, "settings_hash": None}),
     "run row 1, column settings_hash: empty is not text"),
    (lambda s: restage(s.directory, lambda row: {**row, "experiment": "other"}), "belongs to other"),
    (lambda s: restage(s.directory, lambda row: {**row, "units": 99}), "run row 1: its settings columns"),
])
def test_a_staged_file_that_cannot_be_used_is_left_out_then_quarantined_never_blocking(
        tmp_path, damage, message):
    store = filled(tmp_path, [0, 1])
    damage(store)
    bad = next(p for p in store.staging.iterdir() if not p.name.startswith("."))
    kept = bad.read_bytes() if bad.is_file() else None
    with pytest.warns(SetAside, match=f"{re.escape(message)}.*: left out"):
        assert store.load().runs["seed"].tolist() == [0, 1]  # readers go on
    with pytest.warns(SetAside, match=f"{re.escape(message)}.*: moved to .*quarantine"), store.writer():
        store.stage([(task(3), result(3))], 1)  # another seed's run goes on
        store.merge([], meta(), invocation("t1"))
    assert store.load().runs["seed"].tolist() == [0, 1, 3]
    moved = store.directory / "quarantine" / bad.name
    assert not bad.exists() and (moved.read_bytes() == kept if kept is not None else moved.is_dir())
    damage(store)  # again, under the same name: the first one is kept too
    with pytest.warns(SetAside, match=f"moved to .*{re.escape(bad.name)}.1 "), store.writer():
        pass
    assert moved.exists() and (moved.parent / f"{bad.name}.1").exists()


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


def test_a_rate_grid_holds_one_setting_but_the_rate():
    at = SETUP.replace(learning_rate=0.01)
    grid = {"v": schema.grid_hash(vars(SETUP))}
    stored = {"exp": Stored("R/exp", {("v", 0): settings_hash(SETUP)}, 1, grids=grid)}
    assert len(plan_run([task(0, at, "v[learning_rate=0.01]")], stored).todo) == 1
    later = at.replace(epochs=9)  # a rate of the grid at other epochs
    with pytest.raises(Refused, match="R/exp would hold v.* and v made with other settings than "
                                      "the learning rate; a rate grid varies the rate alone"):
        plan_run([task(0, later, "v[learning_rate=0.01]")], stored)
    with pytest.raises(Refused, match="other settings than the learning rate"):
        plan_run([task(0, later, "v[learning_rate=0.01]")], stored, force=True)
    whole = [task(0, OTHER, "v"), task(0, OTHER.replace(learning_rate=0.01), "v[learning_rate=0.01]")]
    assert len(plan_run(whole, stored, force=True).todo) == 2  # the whole grid replaced


def test_a_field_added_with_its_default_leaves_every_fingerprint_as_it_was():
    settings = dict(vars(SETUP))
    settings.pop("score_from")
    assert schema.hash_of_settings(settings) == settings_hash(SETUP)
    assert settings_hash(SETUP.replace(score_from=5)) != settings_hash(SETUP)


def test_every_committed_run_has_its_variants_fingerprint():
    from experiments import discover

    EXPERIMENTS = discover()

    results = ROOT / "results"
    for name, experiment in EXPERIMENTS.items():
        runs = ExperimentStore(results / name).load().runs
        for variant, setup in experiment.variants.items():
            stored = set(runs.loc[runs["variant"] == variant, "settings_hash"])
            assert stored == {settings_hash(setup)}, (name, variant)


def test_a_file_may_lack_only_columns_no_run_needs_and_reads_them_as_their_defaults(tmp_path):
    """Settings the fingerprint counts only away from their default, and optional columns."""
    def without(setup, columns):
        store = filled(tmp_path / setup.describe().replace(" ", ""), [0, 1], setup)
        path = store.directory / "runs.csv"
        table = pd.read_csv(path, dtype={"settings_hash": str})
        table.drop(columns=columns).to_csv(path, index=False)  # as written before those columns
        return store

    later = ["score_from", "learning_rate", *schema.PROVENANCE_COLUMNS]
    runs = without(SETUP, later).load().runs
    assert runs["score_from"].tolist() == [0, 0] and runs["learning_rate"].tolist() == [1e-3] * 2
    assert runs["engine"].isna().all() and list(runs.columns) == schema.RUN_COLUMNS
    with pytest.raises(StoreError, match="not those its settings_hash"):  # 4 is no default
        without(SETUP.replace(score_from=4), later).load()
    with pytest.raises(StoreError, match="lacks the columns length"):  # hashed at every value
        without(SETUP, ["length"]).load()


def test_every_setting_is_a_column_of_runs_csv_in_the_schemas_order(tmp_path):
    setup = SETUP.replace(length=30, score_from=4)
    runs = filled(tmp_path, [0, 1], setup).load().runs
    assert runs["length"].tolist() == [30, 30] and runs["score_from"].tolist() == [4, 4]
    assert list(runs.columns) == schema.RUN_COLUMNS
    assert {c for c in vars(Setup()) if c != "epochs"} <= set(runs.columns)


def test_a_run_that_keeps_failing_is_recorded_once_and_the_store_stays_readable(tmp_path):
    store = ExperimentStore(tmp_path / "exp")
    failed = {"experiment": "exp", "variant": "v", "seed": 3, "settings_hash": settings_hash(SETUP),
              "error": "boom"}
    for attempt in ("t1", "t2", "t3"):
        with store.writer():
            store.stage([(task(0), result(0))])
            store.merge([failed], meta(), invocation(attempt, runs=1, failed=1))
    errors = pd.read_csv(store.directory / "errors.csv")
    assert list(errors.columns) == schema.ERROR_COLUMNS
    assert errors[["variant", "seed", "error"]].values.tolist() == [["v", 3, "boom"]]
    assert store.errors()["seed"].tolist() == [3] and keys(store.load().runs) == [("v", 0)]


def edit_meta(directory, change):
    path = directory / "meta.json"
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


def restage(directory, change):
    """Stage seed 5 again with its row changed by `change`, as a damaged or forged file would."""
    store = ExperimentStore(directory)
    store.stage([(task(5), result(5))])
    path = next(store.staging.iterdir())
    with np.load(path) as data:
        arrays = dict(data)
    header = json.loads(arrays["header"].tobytes())
    header["rows"][0] = change(header["rows"][0])
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    np.savez(path.with_suffix(""), **arrays)


def cut(path, characters):
    path.write_bytes(path.read_bytes()[:-characters])


@pytest.mark.parametrize("damage, message", [
    (lambda d: rewrite(d / "runs.csv", lambda t: t.assign(eval_accuracy=["0.5", "abc"])),
     "runs.csv line 3, column eval_accuracy: 'abc' is not a finite number in [0, 1]"),
    (lambda d: rewrite(d / "runs.csv", lambda t: t.assign(eval_accuracy=["7.5", "0.5"])),
     "runs.csv line 2, column eval_accuracy: 7.5 is not a finite number in [0, 1]"),
    (lambda d: rewrite(d / "runs.csv", lambda t: t.assign(eval_accuracy=["inf", "0.5"])),
     "runs.csv line 2, column eval_accuracy: inf is not"),
    (lambda d: rewrite(d / "runs.csv", lambda t: t.assign(eval_accuracy=["", "0.5"])),
     "runs.csv line 2, column eval_accuracy: empty is not"),
    (lambda d: rewrite(d / "runs.csv", lambda t: t.assign(final_loss=["-1", "0.5"])),
     "column final_loss: -1.0 is not a finite number of at least 0"),
    (lambda d: rewrite(d / "runs.csv", lambda t: t.assign(stateful=["yes", "True"])),
     "column stateful: 'yes' is not True or False"),
    (lambda d: rewrite(d / "runs.csv", lambda t: t.assign(units=["99", "50"])),
     "runs.csv line 2: its settings columns are not those its settings_hash"),
    (lambda d: rewrite(d / "runs.csv", lambda t: t.assign(epochs_to_99=["9", ""])),
     "runs.csv line 2, column epochs_to_99: 9.0 lies beyond the run's 7 epochs"),
    (lambda d: (rewrite(d / "runs.csv", lambda t: t.assign(seed=["-1", "1"])),
                rewrite(d / "curves.csv", lambda t: t.assign(seed=t["seed"].replace("0", "-1")))),
     "runs.csv line 2, column seed: -1 is not an integer of at least 0"),
    (lambda d: rewrite(d / "curves.csv", lambda t: t.assign(loss=["inf", *t["loss"][1:]])),
     "curves.csv line 2, column loss: inf is not a finite number of at least 0"),
    (lambda d: rewrite(d / "curves.csv", lambda t: t.assign(accuracy=[*t["accuracy"][:-1], "1.5"])),
     "curves.csv line 15, column accuracy: 1.5 is not"),
    (lambda d: cut(d / "curves.csv", 4), "curves.csv line 15 is cut short"),
    (lambda d: rewrite(d / "curves.csv", lambda t: t.assign(loss=[*t["loss"][:-1], "0.25"])),
     "curves.csv line 15: loss 0.25 is not the final loss of v seed 1"),
    (lambda d: cut(d / "runs.csv", 1), "runs.csv line 3 is cut short"),
    (lambda d: edit_meta(d, lambda m: {**m, "settings": 5}), "settings is 5, not an object"),
    (lambda d: edit_meta(d, lambda m: {**m, "curve_every": "abc"}),
     'curve_every is "abc", not an integer'),
    (lambda d: edit_meta(d, lambda m: {**m, "curve_every": 0}), "curve_every is 0"),
    (lambda d: edit_meta(d, lambda m: {**m, "invocations": "x"}), 'invocations is "x", not a list'),
    (lambda d: edit_meta(d, lambda m: {**m, "invocations": [{"command": 1}]}),
     "invocations[0].command is 1, not text"),
    (lambda d: edit_meta(d, lambda m: {"format": 1}), "the key experiment is missing"),
])
def test_values_a_file_cannot_hold_are_refused_and_nothing_is_rewritten(tmp_path, damage, message):
    store = filled(tmp_path, [0, 1])
    damage(store.directory)
    files = {p: p.read_bytes() for p in store.directory.rglob("*") if p.is_file()}
    with pytest.raises(StoreError, match=re.escape(message)) as refused:
        store.load()
    assert "\n" not in str(refused.value)
    with store.writer(), pytest.raises(StoreError, match=re.escape(message)):
        store.merge([], meta(), invocation("t1"))
    assert {p: p.read_bytes() for p in files} == files


@pytest.mark.parametrize("setup", [SETUP, OTHER])
def test_a_replacement_stays_out_of_view_until_every_seed_is_staged(tmp_path, setup):
    store = filled(tmp_path, [0, 1, 2])
    with store.writer():
        store.begin_replacement("v", settings_hash(setup), [0, 1])
        store.stage([(task(0, setup), result(0, setup))])
        store.merge([], meta(setup), invocation("t1", runs=1))
        found = store.contents()
        runs, curves = found.runs, store.load().curves
        assert keys(runs) == [("v", 0), ("v", 1), ("v", 2)]
        assert set(runs["settings_hash"]) == {settings_hash(SETUP)}
        assert found.held == {("v", 0): settings_hash(setup)}
        assert curves.groupby("seed").size().to_dict() == {0: 7, 1: 7, 2: 7}
        store.stage([(task(1, setup), result(1, setup))])
        store.merge([], meta(setup), invocation("t1", runs=2))
    found = store.contents()
    runs = found.runs
    kept = [0, 1, 2] if setup == SETUP else [0, 1]
    assert runs["seed"].tolist() == kept and not found.held and not list(store.staging.iterdir())
    assert (runs.loc[runs["seed"] < 2, "settings_hash"] == settings_hash(setup)).all()


@pytest.mark.parametrize("operations", range(6))
def test_a_replacement_killed_at_any_file_operation_shows_the_old_variant_or_the_new(
        tmp_path, monkeypatch, operations):
    store = filled(tmp_path, [0, 1, 2])
    with store.writer():
        store.begin_replacement("v", settings_hash(OTHER), [0, 1])
        store.stage([(task(0, OTHER), result(0, OTHER))])
        store.merge([], meta(OTHER), invocation("t1", runs=1))
        store.stage([(task(1, OTHER), result(1, OTHER))])
        with monkeypatch.context() as patch:
            killed_after(patch, operations)
            try:
                store.merge([], meta(OTHER), invocation("t1", runs=2))
            except Killed:
                pass
        for _ in range(2):  # every seed is staged: a reader sees the new variant whole
            loaded = store.load()
            runs, curves = loaded.runs, loaded.curves
            assert runs["seed"].tolist() == [0, 1], operations
            assert set(runs["settings_hash"]) == {settings_hash(OTHER)}
            assert curves.groupby("seed").size().to_dict() == {0: 9, 1: 9}
            store.merge([], meta(OTHER), invocation("t2"))
    assert not list(store.staging.iterdir())


def test_an_abandoned_replacement_leaves_the_stored_variant_and_nothing_staged(tmp_path):
    store = filled(tmp_path, [0, 1])
    with store.writer():
        store.begin_replacement("v", settings_hash(OTHER), [0, 1])
        store.stage([(task(0, OTHER), result(0, OTHER))])
        before = store.load().runs
        assert [r.variant for r in store.abandon()] == ["v"]
        assert not list(store.staging.iterdir()) and not store.replacements()
        pd.testing.assert_frame_equal(store.load().runs, before)


def test_a_new_replacement_drops_the_runs_an_unfinished_one_of_other_settings_held(tmp_path):
    store = filled(tmp_path, [0, 1])
    with store.writer():
        store.begin_replacement("v", settings_hash(OTHER), [0, 1])
        store.stage([(task(0, OTHER), result(0, OTHER))])
        store.begin_replacement("v", settings_hash(SETUP), [0, 1])
        assert store.contents().held == {}
        assert [r.settings_hash for r in store.replacements()] == [settings_hash(SETUP)]


def test_a_damaged_replacement_record_is_one_line(tmp_path):
    store = filled(tmp_path, [0])
    (store.staging / f"{files.file_stem('v')}{staging.REPLACEMENT}").write_text(
        '{"variant": "v", "settings_hash": 5, "seeds": [0]}')
    with pytest.raises(StoreError, match="is not a replacement record"):
        store.load()


def test_any_variant_name_stages_inside_staging_under_a_bounded_name(tmp_path):
    long = "v[" + ",".join(f"setting{i}=value{i}" for i in range(40)) + "]"
    for variant in ("../../escaped", long, ".hidden", "a/b"):
        store = ExperimentStore(tmp_path / "exp")
        with store.writer():
            store.stage([(Task("exp", variant, 0, SETUP), result(0))])
            staged = list(store.staging.iterdir())
            assert len(staged) == 1 and len(staged[0].name) < 120
            assert not staged[0].name.startswith(".")
            store.merge([], {**meta(), "variants": [variant], "descriptions": {variant: "d"},
                             "settings": {variant: dict(vars(SETUP))}}, invocation(runs=1))
        assert store.load().runs["variant"].tolist() == [variant]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["exp"]
        store.directory.joinpath("runs.csv").unlink()
        store.directory.joinpath("curves.csv").unlink()


def test_runs_a_killed_command_staged_are_accounted_for_by_the_command_that_merges_them(tmp_path):
    store = ExperimentStore(tmp_path / "exp")
    with store.writer():  # killed before its first merge: three runs staged, no meta.json
        for seed in (0, 1, 2):
            store.stage([(task(seed), result(seed))])
    with store.writer():  # the next command's merges: at its start, and at its end
        store.merge([], meta(), invocation("t1"))
        store.merge([], meta(), invocation("t1"))
    written = json.loads((store.directory / "meta.json").read_text())
    assert written["seeds"] == [0, 1, 2]
    assert [(i["runs"], i.get("recovered")) for i in written["invocations"]] == [(0, 3)]
