"""How fast a setup's training program runs with its one-hot input multiplied out and with the
products gathered (`echo.gather`): both compiled once and timed alternately in this process, so
their ratio compares like with like on any device (the GPU script times them too)."""

import time

import jax
import numpy as np

from echo import training
from echo.protocol import framed_sequences, initial_model, streams


def input_products(setup, seeds: int = 1, rounds: int = 4) -> dict[str, float]:
    """Seconds per seed-epoch of `setup`'s whole training run, {'one-hot products': s,
    'gathered': s}, best of `rounds`; `seeds` > 1 maps the program over that many copies of
    seed 0's run, as the vectorized engine maps over seeds."""
    framed = framed_sequences(setup, streams(0)[0], setup.epochs)
    model = initial_model(setup, 0)
    arguments = training.train_arguments(model, framed.X, framed.y)
    if seeds > 1:
        arguments = jax.tree.map(lambda a: np.repeat(np.asarray(a)[None], seeds, 0), arguments)
    calls = {name: _call(model, setup, arguments, gather, seeds)
             for name, gather in (("one-hot products", False), ("gathered", True))}
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(rounds):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: seconds / (seeds * setup.epochs) for name, seconds in best.items()}


def _call(model, setup, arguments, gather: bool, seeds: int):
    """A call of the training program, compiled, on `arguments` (mapped over seeds if more than
    one)."""
    program = training._train_program(model, setup.missing_value, not setup.carry_state, gather)
    compiled = jax.jit(jax.vmap(program) if seeds > 1 else program).lower(*arguments).compile()
    return lambda: jax.block_until_ready(compiled(*arguments))
