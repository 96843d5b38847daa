"""The vectorized engine: many seeds of one setup trained as one compiled program.

Each seed keeps what `echo.protocol.run` gives it (initial weights, training
and held-out sequences, optimizer state), drawn for the whole chunk at once along
a leading seed axis (weights from one template model, sequences framed as one
array, held-out scores counted as one array), and the per-seed program of
`echo.training` is mapped over that axis with `jax.vmap`, so a chunk of seeds costs one
compilation and one call. Adam's learning rate is optimizer state, so a chunk's members may
each have their own (a tuning grid's rates side by side, as seeds are). A seed's run equals
the per-seed engine's to float tolerance, not bitwise: batched kernels add in another order.
"""

import time
from dataclasses import dataclass

import jax
import keras
import numpy as np

from echo.framings import Framed
from echo.initial import initial_weights
from echo.protocol import streams, template_model
from echo.records import Curves, Phases, Run
from echo.scoring import score_seeds
from echo.sequences import generate_sequences
from echo.setup import Setup
from echo.training import HELD_OUT_AT_ONCE, batching, compiled_program, split_batches

# On a CPU, chunks of about this many parameters (four echo-lag models) keep a chunk's
# weights, gradients and Adam moments in the core's cache: of chunks of 2, 4, 8 and 16
# echo-lag seeds, 4 trained fastest on this project's 2-core machine.
CPU_CHUNK_PARAMETERS = 150_000
# On an accelerator, at most this share of its memory goes to one chunk.
MEMORY_SHARE = 0.5


@dataclass(frozen=True)
class Device:
    """Where a worker's programs run: platform ('cpu', 'gpu', ...), its name, memory, count."""

    platform: str
    name: str
    memory_bytes: int | None
    count: int


def device() -> Device:
    """The device JAX runs this worker's programs on."""
    first = jax.devices()[0]
    stats = first.memory_stats() if first.platform != "cpu" else None
    return Device(first.platform, first.device_kind, (stats or {}).get("bytes_limit"),
                  len(jax.devices()))


def chunk_size(setup: Setup, where: Device) -> int:
    """Seeds per call: cache-sized on a CPU, memory-sized on an accelerator."""
    parameters = template_model(setup).count_params()
    if where.platform == "cpu" or not where.memory_bytes:
        return max(1, CPU_CHUNK_PARAMETERS // parameters)
    return max(1, int(MEMORY_SHARE * where.memory_bytes) // _bytes_per_seed(setup, parameters))


def _bytes_per_seed(setup: Setup, parameters: int) -> int:
    """A generous estimate of one seed's memory in a chunk: its sequences, its weights with
    their gradients, Adam moments and per-step copies, the activations of one batch, its
    predicted values and the held-out sequences predicted at once (checked against XLA's own
    count for every kind of model)."""
    framed = setup.probe()
    samples, timesteps = framed.X.shape[1], framed.X.shape[-1]
    data = 4 * (setup.epochs + setup.eval_sequences) * samples * (timesteps + 1)
    outputs = setup.eval_sequences * samples * setup.out_steps
    held_out = min(setup.eval_sequences, HELD_OUT_AT_ONCE)
    scoring = held_out * samples * max(setup.out_steps, timesteps) * setup.n_unique
    activations = setup.batch_size * timesteps * (setup.n_unique + 8 * setup.units)
    return data + 4 * (16 * parameters + outputs + scoring + 4 * activations)


@dataclass(frozen=True)
class Trained:
    """Seeds trained together: the setup's model (a template), every seed's trained weights
    (stacked along a leading seed axis), its curves, the call's wall time (compiling included)
    and the set-up's before it."""

    model: keras.Model
    weights: list
    curves: list[Curves]
    seconds: float
    setup_seconds: float


def train_seeds(setup: Setup, seeds: list[int], rates: list[float] | None = None) -> Trained:
    """Train every seed of `setup` as `echo.protocol.run` would, in one compiled call; with
    `rates`, seed i at Adam's learning rate rates[i] (as `setup.replace(learning_rate=...)`)."""
    if keras.backend.backend() != "jax":
        raise ValueError("the vectorized engine needs the JAX backend (KERAS_BACKEND=jax)")
    started = time.perf_counter()
    model = template_model(setup)
    model.optimizer.build(model.trainable_variables)
    trainable = initial_weights(model, seeds, rebuild=lambda: template_model(setup, clear=False))
    rates = [setup.learning_rate] * len(seeds) if rates is None else rates
    rate = model.optimizer.learning_rate
    opt_vars = [np.asarray(rates, dtype=v.dtype) if v is rate else
                np.repeat(np.asarray(v.value)[None], len(seeds), axis=0)
                for v in model.optimizer.variables]
    training = framed_seeds(setup, seeds, 0, setup.epochs)
    arguments = (trainable, opt_vars, *_batches(model, training.X, training.y))
    start = time.perf_counter()
    program, compile_seconds = compiled_program(model, "train", setup.missing_value,
                                                not setup.carry_state, arguments, over_seeds=True)
    weights, _, losses, accuracies = jax.block_until_ready(program(*arguments))
    seconds = time.perf_counter() - start
    losses, accuracies = np.asarray(losses), np.asarray(accuracies)
    curves = [Curves(losses[i], accuracies[i], compile_seconds / len(seeds))
              for i in range(len(seeds))]
    return Trained(model, weights, curves, seconds, start - started)


def run_seeds(setup: Setup, seeds: list[int], size: int | None = None,
              rates: list[float] | None = None) -> list[Run]:
    """`echo.protocol.run(setup, seed)` for every seed, trained and scored together; with
    `rates`, seed i's run is `run(setup.replace(learning_rate=rates[i]), seed)`.

    `size` pads the chunk with copies of its last member to that many (their
    results are dropped), so every chunk of a variant reuses one compilation.
    Each seed's `train_seconds` is its share of the call's wall time.
    """
    if not seeds:
        return []
    padding = max(0, (size or 0) - len(seeds))
    padded = list(seeds) + [seeds[-1]] * padding
    trained = train_seeds(setup, padded, None if rates is None else list(rates) + [rates[-1]] * padding)
    scored_from = time.perf_counter()
    held_out = framed_seeds(setup, padded, 1, setup.eval_sequences)
    scores = score_seeds(_predict(trained, setup, held_out), held_out,
                         whole_history=setup.whole_history, score_from=setup.score_from)
    share = trained.seconds / len(padded)
    compiled = trained.curves[0].compile_seconds
    phases = Phases(trained.setup_seconds / len(padded), compiled, share - compiled,
                    (time.perf_counter() - scored_from) / len(padded))
    where = device().name
    return [Run(scores[i], float(trained.curves[i].loss[-1]), share, trained.curves[i], phases,
                where) for i in range(len(seeds))]


def framed_seeds(setup: Setup, seeds: list[int], stream: int, count: int) -> Framed:
    """Each seed's `count` sequences from its stream (0 training, 1 held-out), framed at once:
    X (seeds, count, samples, timesteps), y (seeds, count, samples, ...), as the narrowest
    integers that hold every value and MISSING (int8 for 100 values: a quarter of the memory to
    frame, and framing 8 times faster; `split_batches` widens them to int32 for the device)."""
    sequences = np.stack([generate_sequences(streams(seed)[stream], count, setup.length,
                                             setup.n_unique) for seed in seeds])
    return setup.frame(sequences.astype(np.min_scalar_type(-setup.n_unique)))


def _batches(model, X, y):
    """(seeds, epochs, samples, ...) -> (seeds, epochs, batches, batch size, ...), order kept."""
    seeds, epochs = X.shape[:2]
    flat = split_batches(X.reshape((-1,) + X.shape[2:]), y.reshape((-1,) + y.shape[2:]),
                         batching(model, X[0]))
    return tuple(a.reshape((seeds, epochs) + a.shape[1:]) for a in flat)


def _predict(trained: Trained, setup: Setup, held_out: Framed) -> np.ndarray:
    """Each seed's predicted values on its own held-out sequences (seed, sequences, samples, ...)."""
    model = trained.model
    X = _batches(model, held_out.X, held_out.X[..., 0])[0]
    arguments = (trained.weights, X)
    program, _ = compiled_program(model, "values", setup.missing_value, True, arguments,
                                  over_seeds=True)
    return np.asarray(program(*arguments)).reshape(held_out.X.shape[:3] + model.output_shape[1:-1])
