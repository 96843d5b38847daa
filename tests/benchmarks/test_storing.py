"""Storing a chunk's runs: staged in one file and merged, against the same runs staged one by one
(as the per-seed engine stages them), measured in one run; the ratio is printed at the end."""

import itertools

import numpy as np
import pytest

from bench.run.tasks import Task
from bench.store.directory import ExperimentStore
from bench.store.provenance import invocation, provenance
from echo.records import Curves, Run
from experiments.echo_lag import EXPERIMENT

SEEDS = 64
EVERY = 10  # as the canonical results store curves


def finished() -> list[tuple[Task, Run]]:
    """What a chunk of SEEDS seeds of echo-lag sends back, made up (storing is what is timed)."""
    setup = EXPERIMENT.baseline_setup
    rng = np.random.default_rng(0)
    scores = {"eval_accuracy": 0.99, "eval_accuracy_incomplete": float("nan"),
              "eval_sequence_accuracy": float("nan")}
    return [(Task(EXPERIMENT.name, EXPERIMENT.baseline, seed, setup),
             Run(scores, 0.01, 1.0, Curves(*rng.random((2, setup.epochs), np.float32), 0.5)))
            for seed in range(SEEDS)]


@pytest.mark.parametrize("staged", ["one by one", "as one chunk"])
def test_store_a_chunk(benchmark, tmp_path, stored_per_seed, staged):
    runs = finished()
    batches = [runs] if staged == "as one chunk" else [[run] for run in runs]
    meta = provenance(EXPERIMENT, [task for task, _ in runs], EVERY)
    rounds = itertools.count()

    def store_all():
        store = ExperimentStore(tmp_path / str(next(rounds)) / EXPERIMENT.name)
        with store.writer():
            for batch in batches:
                store.stage(batch, EVERY)
            store.merge([], meta, invocation(["bench"], "", 0.0, runs=SEEDS, failed=0,
                                             status="finished", git_commit=None,
                                             engine="vectorized", backend="loky"))

    benchmark.pedantic(store_all, rounds=5, warmup_rounds=1)
    stored_per_seed[staged] = benchmark.stats.stats.mean / SEEDS
