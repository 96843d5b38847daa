"""One run of the echo problem: a pure function of (setup, seed).

A Setup (echo.setup) is everything a variant of an experiment fixes; `run` trains a fresh
model on `epochs` fresh sequences and scores it on held-out ones. The seed
fixes three disjoint random streams: initial weights, training sequences and
evaluation sequences, so variants with the same seed see the
same data (paired comparisons) and evaluation never sees a training sequence's
stream.
"""

import time

import keras
import numpy as np

from echo.initial import set_initial_weights
from echo.models import build_model
from echo.records import Phases, Run
from echo.scoring import score
from echo.sequences import generate_sequences, seed_stream
from echo.setup import Setup
from echo.spec import user_cell
from echo.training import predict, train


def streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Disjoint random streams for training and evaluation sequences."""
    return seed_stream(seed, "training"), seed_stream(seed, "held-out")


def initial_model(setup: Setup, seed: int, clear: bool = True) -> keras.Model:
    """A fresh model of the setup with the seed's initial weights (`echo.initial`: drawn with
    numpy, the same on every backend).

    Clearing Keras's session first resets its layer names, so that every model of a
    setup has the same configuration (and shares one compiled program); `clear=False`
    keeps the session, for models built side by side. Python's own collector frees the
    old models: an explicit collection costs a tenth to a quarter of a second each time.
    """
    return set_initial_weights(template_model(setup, clear), seed,
                               rebuild=lambda: template_model(setup, clear=False))


def template_model(setup: Setup, clear: bool = True) -> keras.Model:
    """A model of the setup, a template for its shapes, whose trainable weights are zeros where
    `echo.initial` draws them. A user's layer draws as Keras would: it may read its weights as it
    builds, and Keras's draw of a bare keras.Variable depends on the draws made before it."""
    if clear:
        keras.backend.clear_session(free_memory=False)
    return build_model(setup.model_spec(), drawn=user_cell(setup.cell))


def run(setup: Setup, seed: int) -> Run:
    """Train on `epochs` fresh sequences, then score on `eval_sequences` held-out ones."""
    started = time.perf_counter()
    train_rng, eval_rng = streams(seed)
    model = initial_model(setup, seed)
    training = framed_sequences(setup, train_rng, setup.epochs)
    trained_from = time.perf_counter()
    curves = train(model, training.X, training.y, missing_value=setup.missing_value,
                   reset_per_sequence=not setup.carry_state)
    scored_from = time.perf_counter()
    held_out = framed_sequences(setup, eval_rng, setup.eval_sequences)
    predictions = predict(model, held_out.X, missing_value=setup.missing_value)
    keras.backend.clear_session(free_memory=False)
    scores = score(predictions, held_out, whole_history=setup.whole_history,
                   score_from=setup.score_from)
    seconds = scored_from - trained_from
    phases = Phases(trained_from - started, curves.compile_seconds,
                    seconds - curves.compile_seconds, time.perf_counter() - scored_from)
    return Run(scores, float(curves.loss[-1]), seconds, curves, phases, device_name())


def device_name() -> str:
    """What this process trains on, as its backend names it ('cpu', 'NVIDIA H200', ...)."""
    if keras.backend.backend() == "jax":
        # Late: only the backend in use is imported.
        import jax

        return jax.devices()[0].device_kind
    # Late: only the backend in use is imported.
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return gpus[0].name if gpus else "cpu"


def framed_sequences(setup: Setup, rng: np.random.Generator, count: int):
    """`count` fresh sequences from `rng`, framed as the setup frames them."""
    return setup.frame(generate_sequences(rng, count, setup.length, setup.n_unique))
