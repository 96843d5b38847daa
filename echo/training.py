"""The fast trainer: the tutorial's protocol compiled into one program.

The protocol, exactly: every epoch is one fresh sequence; its batches are
trained in order, unshuffled, one Adam update per batch; a stateful layer
carries its state from one batch of a sequence to the next and starts every
sequence from zeros. Instead of one `model.fit` per sequence, the whole run is
a scan over epochs (and, within one, over batches) through the model's
stateless API, so it compiles once. The carried state is threaded explicitly:
on JAX a stateful layer's state is not among the model's variables, and
`fit`/`stateless_call` would silently drop it. In training, the model's products with its
one-hot input are computed as gathers of the kernel's rows (`echo.gather`): the same values,
1.4x faster on a CPU.
"""

import functools
import json
import time
from collections import OrderedDict

import jax
import keras
import numpy as np
from keras import ops

from echo.compat import skip_tensorflow_probe
from echo.encoding import encode
from echo.gather import gathered
from echo.models import state_variables
from echo.records import Curves
from echo.reference import predict_reference, train_reference


def train(model: keras.Model, X: np.ndarray, y: np.ndarray, *, missing_value: float = 0.0,
          reset_per_sequence: bool = True) -> Curves:
    """Train `model` in place on X (epochs, samples, timesteps) and y (epochs, samples).

    For a model that outputs several steps, y is (epochs, samples, steps) and
    MISSING targets are left out of the loss and the accuracy.

    One epoch is one sequence's samples; `reset_per_sequence=False` carries the
    state across sequences too (never reset). Other backends than JAX have no
    stateless optimizer update (TensorFlow refuses it), so there the tutorial's
    own loop trains, with the same protocol and results but at its speed.
    """
    batching(model, X)  # refuses samples that do not split into whole batches, on any backend
    if keras.backend.backend() != "jax":
        return train_reference(model, X, y, missing_value=missing_value,
                               reset_per_sequence=reset_per_sequence)
    arguments = train_arguments(model, X, y)
    program, compile_seconds = compiled_program(model, "train", missing_value, reset_per_sequence,
                                        arguments)
    trainable, opt_vars, losses, accuracies = program(*arguments)
    for variable, value in zip(model.trainable_variables, trainable):
        variable.assign(value)
    for variable, value in zip(model.optimizer.variables, opt_vars):
        variable.assign(value)
    return Curves(ops.convert_to_numpy(losses), ops.convert_to_numpy(accuracies), compile_seconds)


def train_arguments(model: keras.Model, X: np.ndarray, y: np.ndarray) -> tuple:
    """The training program's arguments: the model's weights, its optimizer's state (built
    here if it is not yet) and X and y split into batches."""
    model.optimizer.build(model.trainable_variables)
    return ([v.value for v in model.trainable_variables],
            [v.value for v in model.optimizer.variables],
            *split_batches(X, y, batching(model, X)))


def predict(model: keras.Model, X: np.ndarray, *, missing_value: float = 0.0) -> np.ndarray:
    """Predicted values for X (sequences, samples, timesteps), state reset per sequence: the
    argmax taken where the model runs, so only the values come back."""
    if keras.backend.backend() != "jax":
        return predict_probabilities(model, X, missing_value=missing_value).argmax(-1)
    return _predicted(model, X, missing_value, "values", model.output_shape[1:-1])


def predict_probabilities(model: keras.Model, X: np.ndarray, *,
                          missing_value: float = 0.0) -> np.ndarray:
    """Softmax outputs (sequences, samples, [steps,] n_unique), batches in order, state reset
    per sequence."""
    if keras.backend.backend() != "jax":
        batching(model, X)  # refuses samples that do not split into whole batches
        return predict_reference(model, X, missing_value=missing_value)
    return _predicted(model, X, missing_value, "predict", model.output_shape[1:])


def _predicted(model, X, missing_value, purpose, shape):
    arguments = ([v.value for v in model.trainable_variables],
                 split_batches(X, X[..., 0], batching(model, X))[0])
    program, _ = compiled_program(model, purpose, missing_value, True, arguments)
    return ops.convert_to_numpy(program(*arguments)).reshape(X.shape[:2] + tuple(shape))


# Held-out sequences predicted side by side; more are looped over in groups of this many. Bounds
# a seed's working memory (echo-lag: 6 MB at 200, 27 MB at 1000) and is as fast on a CPU.
HELD_OUT_AT_ONCE = 200
_PROGRAMS: OrderedDict[tuple, object] = OrderedDict()
PROGRAMS_KEPT = 16  # compiled programs kept per process, least recently used dropped first


_PROGRAM_STORE = None  # where compiled programs are kept between processes (`keep_programs`), if anywhere


def clear_programs() -> None:
    """Forget this process's compiled programs (the next run compiles, or loads them from where
    they are kept)."""
    _PROGRAMS.clear()


def keep_programs(store) -> None:
    """Keep compiled programs in `store` (its `load(key)` gives one or None, its `save(key,
    program)` keeps one) and look there before compiling; None keeps them in this process only.
    The trainer writes no file itself: `bench.run.compile_cache` is the store a command's workers use."""
    global _PROGRAM_STORE
    _PROGRAM_STORE = store


def compiled_program(model, purpose, missing_value, reset_per_sequence, arguments, over_seeds=False):
    """The compiled program for `purpose` ('train', 'predict' or 'values': the predicted values
    rather than the distributions), this architecture and these argument shapes, and the
    seconds spent compiling it now (or loading it from where programs are kept between
    processes, `keep_programs`, where every layer is Keras's own), with any one-off start-up
    of the backend (0 if it was compiled before in this process).

    Weights are arguments, not constants, so every model with the same
    configuration (every seed of a variant) shares one compilation; so is Adam's learning
    rate (an optimizer variable), so variants that differ only in it share one too. With
    `over_seeds`, every argument has a leading seed axis and the program is
    mapped over it (jax.vmap): each seed trains on its own, in one call.
    """
    start = time.perf_counter()  # a process's first program also starts JAX's backend: one-off too
    skip_tensorflow_probe()
    config = model.get_config()
    key = (purpose, over_seeds, json.dumps(config, sort_keys=True, default=str),
           json.dumps(_optimizer_key(model.optimizer), sort_keys=True, default=str),
           missing_value, reset_per_sequence,
           str(jax.tree.map(lambda a: (a.shape, str(a.dtype)), arguments)))
    if key in _PROGRAMS:
        _PROGRAMS.move_to_end(key)
        return _PROGRAMS[key], 0.0
    # A user's layer may change without its configuration changing: its programs are not kept.
    kept = _PROGRAM_STORE if _PROGRAM_STORE is not None and _only_keras(config) else None
    compiled = kept.load(key) if kept else None
    if compiled is not None and not _fits(compiled, arguments):
        compiled = None  # a kept program that cannot take these arguments: compiled and replaced
    if compiled is None:
        build = {"train": _train_program, "predict": _predict_program,
                 "values": functools.partial(_predict_program, values=True)}[purpose]
        program = build(model, missing_value, reset_per_sequence)
        if over_seeds:
            program = jax.vmap(program)
        compiled = jax.jit(program).lower(*arguments).compile()
        if kept:
            kept.save(key, compiled)
    _PROGRAMS[key] = compiled
    while len(_PROGRAMS) > PROGRAMS_KEPT:
        _PROGRAMS.popitem(last=False)
    return compiled, time.perf_counter() - start


def _fits(compiled, arguments) -> bool:
    """Whether a loaded program takes arguments of these structure, shapes and dtypes (one that
    does not would fail on every call)."""
    try:
        expected = jax.tree.map(lambda info: (info.shape, str(info.dtype)), compiled.args_info[0])
    except Exception:  # noqa: BLE001  (a program that cannot say what it takes is not used)
        return False
    return expected == jax.tree.map(lambda a: (tuple(a.shape), str(a.dtype)), tuple(arguments))


def _only_keras(config) -> bool:
    """Whether every layer (and cell) of a model's configuration is one of Keras's own."""
    if isinstance(config, dict):
        module = config.get("module", "keras") if "class_name" in config else "keras"
        return module.split(".")[0] == "keras" and all(map(_only_keras, config.values()))
    if isinstance(config, list):
        return all(map(_only_keras, config))
    return True


def _optimizer_key(optimizer) -> dict:
    """The optimizer's configuration less a constant learning rate: Keras keeps that rate in an
    optimizer variable, which the program takes as an argument like the rest of its state."""
    config = optimizer.get_config()
    if isinstance(config.get("learning_rate"), float):
        config.pop("learning_rate")
    return config


def _train_program(model, missing_value, reset_per_sequence, gather=True):
    """A pure function (weights, optimizer state, batched X, y) -> (new ones, curves); `gather`
    as in `_forward`."""
    n_unique = model.output_shape[-1]
    optimizer = model.optimizer
    forward = _forward(model, n_unique, missing_value, gather)
    loss_fn = keras.losses.CategoricalCrossentropy()
    states0 = [ops.zeros(v.shape, v.dtype) for v in state_variables(model)]

    def batch_step(carry, batch):
        trainable, opt_vars, states = carry
        xb, yb = batch

        valid = ops.cast(ops.greater_equal(yb, 0), "float32")
        weight = valid if yb.ndim > 1 else None

        def loss_of(trainable):
            probs, new_states = forward(trainable, states, xb)
            target = ops.one_hot(ops.maximum(yb, 0), n_unique)
            return loss_fn(target, probs, sample_weight=weight), (probs, new_states)

        (loss, (probs, new_states)), grads = jax.value_and_grad(loss_of, has_aux=True)(trainable)
        trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
        correct = ops.sum(ops.cast(ops.equal(ops.argmax(probs, -1), yb), "float32") * valid)
        return (trainable, opt_vars, new_states), (loss, correct, ops.sum(valid))

    def epoch_step(carry, sequence):
        trainable, opt_vars, states = carry
        if reset_per_sequence:
            states = states0
        (trainable, opt_vars, states), (losses, correct, counted) = ops.scan(
            batch_step, (trainable, opt_vars, states), sequence)
        return (trainable, opt_vars, states), (ops.mean(losses), ops.sum(correct) / ops.sum(counted))

    def run(trainable, opt_vars, Xb, yb):
        (trainable, opt_vars, _), (losses, accuracies) = ops.scan(
            epoch_step, (trainable, opt_vars, states0), (Xb, yb))
        return trainable, opt_vars, losses, accuracies

    return run


def _predict_program(model, missing_value, _reset_per_sequence, values=False):
    """A pure function (weights, batched X) -> softmax outputs, state reset per sequence; with
    `values`, only each output's argmax, the predicted value (a hundredth of the outputs to
    hold on the device and to move back).

    Held-out sequences are independent (each starts from zeros), so they run side by side
    (vmapped, HELD_OUT_AT_ONCE at a time) rather than one after another: the batches of a
    sequence stay in order."""
    # One-hot products, not gathers: side by side, the held-out sequences' inputs make one large
    # product, faster on a CPU than their gathers (echo-lag: 62 against 68 ms per 1000 sequences).
    forward = _forward(model, model.output_shape[-1], missing_value, gather=False)
    states0 = [ops.zeros(v.shape, v.dtype) for v in state_variables(model)]

    def batch_step(carry, xb):
        trainable, states = carry
        probs, states = forward(trainable, states, xb)
        return (trainable, states), ops.argmax(probs, axis=-1) if values else probs

    def sequence(trainable, batches):
        return ops.scan(batch_step, (trainable, states0), batches)[1]

    def run(trainable, Xb):
        return jax.lax.map(lambda batches: sequence(trainable, batches), Xb,
                           batch_size=HELD_OUT_AT_ONCE)

    return run


def _forward(model, n_unique, missing_value, gather):
    """A pure function (trainable values, states, x) -> (probabilities, new states); with
    `gather`, the model's products with its one-hot input are gathers (`echo.gather`)."""
    carried = state_variables(model)

    def forward(trainable, states, inputs):
        mapping = (list(zip(model.trainable_variables, trainable))
                   + [(v, v.value) for v in model.non_trainable_variables]
                   + list(zip(carried, states)))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            probs = model(inputs, training=True)
        return probs, [scope.get_current_value(v) for v in carried]

    if gather:
        return gathered(forward, n_unique, missing_value)
    return lambda trainable, states, x: forward(trainable, states,
                                                encode(x, n_unique, missing_value))


def batching(model, X) -> int:
    """The model's batch size, checked to split every sequence's samples into whole batches."""
    batch_size = model.input_shape[0]
    samples = X.shape[1]
    if samples % batch_size:
        raise ValueError(f"{samples} samples per sequence do not split into batches of {batch_size}")
    return batch_size


def split_batches(X, y, batch_size):
    """(epochs, samples, ...) -> (epochs, batches, batch_size, ...), order kept."""
    epochs, samples = X.shape[:2]
    shape = (epochs, samples // batch_size, batch_size)
    return (np.ascontiguousarray(X.reshape(shape + X.shape[2:]), dtype=np.int32),
            np.ascontiguousarray(y.reshape(shape + y.shape[2:]), dtype=np.int32))
