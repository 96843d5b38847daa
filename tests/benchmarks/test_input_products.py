"""echo-lag's training program with its one-hot input multiplied out and with the products
gathered (echo.gather), both compiled once and timed alternately over a 2000-epoch run in this
process; compared as a ratio of the two."""

import time

import jax

from echo import training
from echo.protocol import initial_model, streams
from echo.sequences import generate_sequences
from experiments.echo_lag import EXPERIMENT

SETUP = EXPERIMENT.baseline_setup


def _program(gather: bool):
    """A call of the compiled training program on one seed's whole run."""
    framed = SETUP.frame(generate_sequences(streams(0)[0], SETUP.epochs))
    model = initial_model(SETUP, 0)
    model.optimizer.build(model.trainable_variables)
    arguments = ([v.value for v in model.trainable_variables],
                 [v.value for v in model.optimizer.variables],
                 *training.split_batches(framed.X, framed.y, SETUP.batch_size))
    program = training._train_program(model, SETUP.missing_value, True, gather)
    compiled = jax.jit(program).lower(*arguments).compile()
    return lambda: jax.block_until_ready(compiled(*arguments))


def test_gathered_inputs_against_one_hot_products(benchmark, inputs):
    one_hot, gathered = _program(False), _program(True)
    best = {"one-hot products": float("inf"), "gathered": float("inf")}
    for _ in range(4):
        for name, call in (("one-hot products", one_hot), ("gathered", gathered)):
            start = time.perf_counter()
            call()
            best[name] = min(best[name], time.perf_counter() - start)
    benchmark.pedantic(gathered, rounds=1)
    inputs.update({name: seconds / SETUP.epochs for name, seconds in best.items()})
    benchmark.extra_info.update({f"{name} ms per epoch": 1000 * seconds / SETUP.epochs
                                 for name, seconds in best.items()})
    assert best["gathered"] * 1.2 <= best["one-hot products"], best
