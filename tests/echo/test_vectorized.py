"""The vectorized engine: a seed trained among others is the seed the per-seed engine trains."""

import numpy as np
import pytest

from bench.run.runner import Chunk, make_chunks, run_chunk, run_tasks
from bench.run.tasks import Task
from echo.protocol import framed_sequences, initial_model, run, streams, template_model
from echo.training import _PROGRAMS as PROGRAMS
from echo.training import HELD_OUT_AT_ONCE, clear_programs, train
from echo.vectorized import _bytes_per_seed, run_seeds, train_seeds

from helpers import each_kind, model_kinds

EPOCHS = 25
SETUPS = model_kinds()


def per_seed_weights(setup, seed):
    model = initial_model(setup, seed)
    framed = framed_sequences(setup, streams(seed)[0], setup.epochs)
    curves = train(model, framed.X, framed.y, missing_value=setup.missing_value,
                   reset_per_sequence=not setup.carry_state)
    return [np.asarray(v.value) for v in model.trainable_variables], curves


@pytest.mark.parametrize("name", each_kind(SETUPS))
def test_a_seed_in_a_chunk_ends_with_its_per_seed_weights(name):
    setup = SETUPS[name].replace(epochs=EPOCHS)
    trained = train_seeds(setup, [3, 0, 5])
    for position, seed in ((1, 0), (2, 5)):
        weights, curves = per_seed_weights(setup, seed)
        for stacked, alone in zip(trained.weights, weights):
            np.testing.assert_allclose(np.asarray(stacked)[position], alone, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(trained.curves[position].loss, curves.loss, rtol=1e-5)
    first = [np.asarray(w) for w in trained.weights]
    assert not np.allclose(first[0][0], first[0][1])  # seeds differ from each other


def test_run_seeds_gives_the_runs_of_the_per_seed_engine_and_padding_changes_nothing():
    setup = SETUPS["echo-lag"].replace(epochs=EPOCHS, eval_sequences=4)
    padded = run_seeds(setup, [1, 2], size=4)
    alone = run_seeds(setup, [2])
    assert len(padded) == 2
    for vectorized, seed in ((padded[0], 1), (padded[1], 2)):
        reference = run(setup, seed)
        np.testing.assert_equal(vectorized.scores, reference.scores)  # NaN where not scored
        np.testing.assert_allclose(vectorized.curves.accuracy, reference.curves.accuracy)
    np.testing.assert_allclose(alone[0].curves.loss, padded[1].curves.loss, rtol=1e-6)
    assert padded[0].train_seconds == padded[1].train_seconds > 0


def test_members_of_a_chunk_each_train_at_their_own_learning_rate():
    setup = SETUPS["echo-lag"].replace(epochs=EPOCHS)
    rates = [1e-3, 1e-2, 3e-4]
    trained = train_seeds(setup, [0, 0, 4], rates)
    for position, (seed, rate) in enumerate(zip([0, 0, 4], rates)):
        weights, curves = per_seed_weights(setup.replace(learning_rate=rate), seed)
        for stacked, alone in zip(trained.weights, weights):
            np.testing.assert_allclose(np.asarray(stacked)[position], alone, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(trained.curves[position].loss, curves.loss, rtol=1e-5)
    assert not np.allclose(np.asarray(trained.weights[0])[0], np.asarray(trained.weights[0])[1])


def test_variants_alike_but_for_the_learning_rate_share_chunks_and_one_compilation():
    setup = SETUPS["echo-lag"].replace(epochs=EPOCHS, eval_sequences=4)
    tasks = [Task("e", f"r{rate}", seed, setup.replace(learning_rate=rate))
             for rate in (1e-3, 1e-2) for seed in range(3)]
    tasks.append(Task("e", "units", 0, setup.replace(units=20)))
    sizes = {(t.experiment, t.variant): 4 for t in tasks}
    chunks = make_chunks(tasks, "vectorized", sizes)
    assert [[(t.variant, t.seed) for t in c.tasks] for c in chunks] == [
        [("r0.001", 0), ("r0.001", 1), ("r0.001", 2), ("r0.01", 0)],
        [("r0.01", 1), ("r0.01", 2)], [("units", 0)]]
    clear_programs()
    outcomes = [run_chunk(c) for c in chunks[:2]]
    trained = [k for k in PROGRAMS if k[0] == "train"]
    assert len(trained) == 1
    for outcome in outcomes[0] + outcomes[1]:
        reference = run(outcome.task.setup, outcome.task.seed)
        np.testing.assert_allclose(outcome.result.curves.loss, reference.curves.loss, rtol=1e-5)


def test_chunks_keep_variants_apart_and_pad_to_one_size():
    setup = SETUPS["echo-lag"]
    tasks = [Task("e", variant, seed, setup.replace(units=units))
             for variant, units in (("a", 50), ("b", 20)) for seed in range(5)]
    chunks = make_chunks(tasks, "vectorized", {("e", "a"): 2, ("e", "b"): 8})
    assert [[t.seed for t in c.tasks] for c in chunks] == [[0, 1], [2, 3], [4], list(range(5))]
    assert [c.size for c in chunks] == [2, 2, 2, 5]
    assert {t.variant for t in chunks[-1].tasks} == {"b"}
    assert make_chunks(tasks[:2], "per-seed") == [Chunk((tasks[0],)), Chunk((tasks[1],))]


class Unbuildable:
    """A setup whose model cannot be built, so the engine cannot size its chunks."""

    def model_spec(self):
        raise ValueError("no such model")


def test_chunks_that_cannot_be_sized_fail_every_task_with_the_reason():
    tasks = [Task("e", "v", seed, Unbuildable()) for seed in range(3)]
    outcomes = [o for chunk in run_tasks(tasks, 1, progress=False, engine="vectorized") for o in chunk]
    assert [o.task.seed for o in outcomes] == [0, 1, 2]
    assert all("could not size" in o.error and "no such model" in o.error for o in outcomes)


@pytest.mark.parametrize("name", each_kind(SETUPS))
def test_a_chunk_is_sized_on_no_less_than_the_memory_its_programs_take(name):
    """The estimate a GPU's chunk is sized with, against XLA's own count of the training and
    held-out programs' buffers (compiled here for two seeds, on the CPU)."""
    setup = SETUPS[name].replace(epochs=EPOCHS, eval_sequences=2 * HELD_OUT_AT_ONCE + 1)
    clear_programs()
    run_seeds(setup, [0, 1])
    estimate = _bytes_per_seed(setup, template_model(setup).count_params())
    for program in PROGRAMS.values():
        used = program.memory_analysis()
        per_seed = (used.temp_size_in_bytes + used.argument_size_in_bytes
                    + used.output_size_in_bytes) / 2
        assert estimate >= per_seed
