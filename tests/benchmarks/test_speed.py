"""One epoch of echo-lag: the tutorial's loop against both engines, in one run.

The per-seed engine is timed over a whole 2000-epoch run, compilation included,
and divided by 2000, both compiling afresh each run and reusing the program as a
worker does for its later seeds; the vectorized engine over 16 seeds in chunks
of 4 (its CPU chunk), compiling afresh; the tutorial's loop one epoch (one
`model.fit`) at a time on TensorFlow, as the tutorial ran it, and on JAX. All run
in this one process, so their ratios compare like with like; they are printed at
the end of the session (see conftest.py). The vectorized engine's set-up (initial
weights and training sequences of sixteen seeds) is timed against its training.
"""

import importlib.util

import pytest

from bench.perf.tutorial_loop import TutorialLoop
from echo.initial import initial_weights
from echo.protocol import initial_model, streams, template_model
from echo.sequences import generate_sequences
from echo.training import clear_programs, train
from echo.vectorized import framed_seeds, train_seeds
from experiments.echo_lag import EXPERIMENT

SETUP = EXPERIMENT.baseline_setup
BACKENDS = [b for b in ("tensorflow", "jax") if importlib.util.find_spec(b)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_tutorial_loop_epoch(benchmark, backend, per_epoch):
    loop = TutorialLoop(SETUP, backend)
    try:
        benchmark.pedantic(loop.epoch, rounds=30, warmup_rounds=3)
    finally:
        loop.close()
    per_epoch[f"tutorial loop ({backend})"] = benchmark.stats.stats.mean


def test_trainer_ten_seeds(benchmark, per_epoch):
    """Ten seeds in one worker, as `bench run` gives them: one compilation for all, included."""
    streams_ = [SETUP.frame(generate_sequences(streams(seed)[0], SETUP.epochs)) for seed in range(10)]

    def ten_runs():
        clear_programs()
        for seed, framed in enumerate(streams_):
            train(initial_model(SETUP, seed), framed.X, framed.y)

    benchmark.pedantic(ten_runs, rounds=2)
    benchmark.extra_info["epochs_per_round"] = 10 * SETUP.epochs
    per_epoch["engine per-seed, 10 seeds, one compilation included"] = (
        benchmark.stats.stats.mean / (10 * SETUP.epochs))


@pytest.mark.parametrize("compiled", ["cold", "warm"])
def test_trainer_epoch(benchmark, per_epoch, compiled):
    """cold: every run compiles (a worker's first seed); warm: the program is reused (later seeds)."""
    framed = SETUP.frame(generate_sequences(streams(0)[0], SETUP.epochs))

    def full_run():
        if compiled == "cold":
            clear_programs()
        train(initial_model(SETUP, 0), framed.X, framed.y)

    benchmark.pedantic(full_run, rounds=3, warmup_rounds=int(compiled == "warm"))
    benchmark.extra_info["epochs_per_round"] = SETUP.epochs
    name = f"engine per-seed, {'compilation included' if compiled == 'cold' else 'compiled once'}"
    per_epoch[name] = benchmark.stats.stats.mean / SETUP.epochs


def test_vectorized_sixteen_seeds(benchmark, per_epoch):
    """Sixteen seeds in chunks of four, one compilation for all, included."""
    chunks = [list(range(start, start + 4)) for start in range(0, 16, 4)]

    def sixteen_runs():
        clear_programs()
        for seeds in chunks:
            train_seeds(SETUP, seeds)

    benchmark.pedantic(sixteen_runs, rounds=1)
    benchmark.extra_info["seed_epochs_per_round"] = 16 * SETUP.epochs
    per_epoch["engine vectorized, 16 seeds in chunks of 4, compilation included"] = (
        benchmark.stats.stats.mean / (16 * SETUP.epochs))


def test_vectorized_setup_sixteen_seeds(benchmark, per_epoch):
    """What the vectorized engine does for sixteen seeds before training: initial weights from
    one template model, and every seed's training sequences drawn and framed as one array."""
    model = template_model(SETUP)
    seeds = list(range(16))

    def set_up():
        initial_weights(model, seeds)
        framed_seeds(SETUP, seeds, 0, SETUP.epochs)

    benchmark.pedantic(set_up, rounds=5, warmup_rounds=1)
    per_epoch["set-up vectorized, 16 seeds (weights, training sequences)"] = (
        benchmark.stats.stats.mean / (16 * SETUP.epochs))
