"""The vectorized engine: many seeds of one setup trained as one compiled program.

Each seed keeps what `echo.protocol.run` gives it (initial weights, training
and held-out sequences, optimizer state); they are stacked along a leading seed
axis, and the per-seed program of `echo.training` is mapped over that axis with
`jax.vmap`, so a chunk of seeds costs one compilation and one call. A seed's
run equals the per-seed engine's to float tolerance, not bitwise: batched
kernels add in another order.
"""

import time
from dataclasses import dataclass

import jax
import keras
import numpy as np

from echo.protocol import framed_sequences, initial_model, scored_run, streams
from echo.records import Curves, Run
from echo.setup import Setup
from echo.training import batching, compiled_program, split_batches

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
    model = initial_model(setup, 0)
    parameters = model.count_params()
    if where.platform == "cpu" or not where.memory_bytes:
        return max(1, CPU_CHUNK_PARAMETERS // parameters)
    return max(1, int(MEMORY_SHARE * where.memory_bytes) // _bytes_per_seed(setup, parameters))


def _bytes_per_seed(setup: Setup, parameters: int) -> int:
    """A generous estimate of one seed's memory in a chunk: its sequences, its weights with
    their gradients, Adam moments and per-step copies, and the activations of one batch."""
    framed = setup.probe()
    samples, timesteps = framed.X.shape[1], framed.X.shape[-1]
    data = 4 * (setup.epochs + setup.eval_sequences) * samples * (timesteps + 1)
    outputs = setup.eval_sequences * samples * max(setup.out_steps, timesteps) * setup.n_unique
    activations = setup.batch_size * timesteps * (setup.n_unique + 8 * setup.units)
    return data + 4 * (16 * parameters + outputs + 4 * activations)


@dataclass(frozen=True)
class Trained:
    """Seeds trained together: the setup's model (a template), every seed's trained weights
    (stacked along a leading seed axis), its curves, and the call's wall time."""

    model: keras.Model
    weights: list
    curves: list[Curves]
    seconds: float


def train_seeds(setup: Setup, seeds: list[int]) -> Trained:
    """Train every seed of `setup` as `echo.protocol.run` would, in one compiled call."""
    if keras.backend.backend() != "jax":
        raise ValueError("the vectorized engine needs the JAX backend (KERAS_BACKEND=jax)")
    model, trainable, opt_vars = _initial_weights(setup, seeds)
    training = [framed_sequences(setup, streams(seed)[0], setup.epochs) for seed in seeds]
    Xb, yb = _stack([split_batches(f.X, f.y, batching(model, f.X)) for f in training])
    start = time.perf_counter()
    arguments = (trainable, opt_vars, Xb, yb)
    program, compile_seconds = compiled_program(model, "train", setup.missing_value,
                                                not setup.carry_state, arguments, over_seeds=True)
    weights, _, losses, accuracies = jax.block_until_ready(program(*arguments))
    seconds = time.perf_counter() - start
    losses, accuracies = np.asarray(losses), np.asarray(accuracies)
    curves = [Curves(losses[i], accuracies[i], compile_seconds / len(seeds))
              for i in range(len(seeds))]
    return Trained(model, weights, curves, seconds)


def run_seeds(setup: Setup, seeds: list[int], size: int | None = None) -> list[Run]:
    """`echo.protocol.run(setup, seed)` for every seed, trained and scored together.

    `size` pads the chunk with copies of its last seed to that many (their
    results are dropped), so every chunk of a variant reuses one compilation.
    Each seed's `train_seconds` is its share of the call's wall time.
    """
    if not seeds:
        return []
    padded = list(seeds) + [seeds[-1]] * max(0, (size or 0) - len(seeds))
    trained = train_seeds(setup, padded)
    held_out = [framed_sequences(setup, streams(seed)[1], setup.eval_sequences) for seed in padded]
    predicted = _predict(trained, setup, held_out)
    share = trained.seconds / len(padded)
    return [scored_run(setup, predicted[i], held_out[i], trained.curves[i], share)
            for i in range(len(seeds))]


def _initial_weights(setup: Setup, seeds: list[int]):
    """A model of the setup, and every seed's initial weights and optimizer state, stacked."""
    trainable, opt_vars = [], []
    for i, seed in enumerate(seeds):
        model = initial_model(setup, seed, clear=i == 0)
        model.optimizer.build(model.trainable_variables)
        trainable.append([np.asarray(v.value) for v in model.trainable_variables])
        opt_vars.append([np.asarray(v.value) for v in model.optimizer.variables])
    return model, _stack(trainable), _stack(opt_vars)


def _predict(trained: Trained, setup: Setup, held_out) -> np.ndarray:
    """Each seed's predicted values on its own held-out sequences (seed, sequences, samples, ...)."""
    model = trained.model
    batch_size = batching(model, held_out[0].X)
    X = np.stack([split_batches(f.X, f.X[..., 0], batch_size)[0] for f in held_out])
    arguments = (trained.weights, X)
    program, _ = compiled_program(model, "predict", setup.missing_value, True, arguments,
                                  over_seeds=True)
    probabilities = np.asarray(program(*arguments))
    shape = (len(held_out),) + held_out[0].X.shape[:2] + tuple(model.output_shape[1:])
    return probabilities.reshape(shape).argmax(-1)


def _stack(per_seed: list):
    """A list (one per seed) of equal structures of arrays -> one structure of stacked arrays."""
    return jax.tree.map(lambda *arrays: np.stack(arrays), *per_seed)
