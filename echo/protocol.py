"""One run of the echo problem: a pure function of (setup, seed).

A Setup (echo.setup) is everything a variant of an experiment fixes; `run` trains a fresh
model on `epochs` fresh sequences and scores it on held-out ones. The seed
fixes the initial weights and two disjoint random streams, one for training
sequences and one for evaluation, so variants with the same seed see the
same data (paired comparisons) and evaluation never sees a training sequence's
stream.
"""

import random
import time
from contextlib import contextmanager

import keras
import numpy as np

from echo.models import build_model
from echo.records import Run
from echo.scoring import score
from echo.sequences import generate_sequences
from echo.setup import Setup
from echo.training import predict, train


def streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Disjoint random streams for training and evaluation sequences."""
    train_seq, eval_seq = np.random.SeedSequence(int(seed)).spawn(2)
    return np.random.default_rng(train_seq), np.random.default_rng(eval_seq)


def initial_model(setup: Setup, seed: int, clear: bool = True) -> keras.Model:
    """A fresh model whose initial weights depend on the seed alone, on any thread.

    Clearing Keras's session first resets its layer names, so that every model of a
    setup has the same configuration (and shares one compiled program); `clear=False`
    keeps the session, for models built side by side. Python's own collector frees the
    old models: an explicit collection costs a tenth to a quarter of a second each time.
    """
    if clear:
        keras.backend.clear_session(free_memory=False)
    with _private_python_random(int(seed)):
        return build_model(setup.model_spec())


@contextmanager
def _private_python_random(seed: int):
    """Let Keras draw its initializers' seeds from a private generator seeded with `seed`.

    Keras draws them from Python's shared `random` module, which other threads
    (a Dask worker's) may advance meanwhile; the private generator yields the
    same values an undisturbed process gets after `random.seed(seed)`. This is
    all the seeding initial weights need: `keras.utils.set_random_seed` would also
    import TensorFlow only to seed it, which makes every worker start seconds slower.
    """
    from keras.src.random import seed_generator

    shared = seed_generator.python_random
    seed_generator.python_random = random.Random(seed)
    try:
        yield
    finally:
        seed_generator.python_random = shared


def run(setup: Setup, seed: int) -> Run:
    """Train on `epochs` fresh sequences, then score on `eval_sequences` held-out ones."""
    train_rng, eval_rng = streams(seed)
    model = initial_model(setup, seed)
    training = framed_sequences(setup, train_rng, setup.epochs)
    start = time.perf_counter()
    curves = train(model, training.X, training.y, missing_value=setup.missing_value,
                   reset_per_sequence=not setup.carry_state)
    seconds = time.perf_counter() - start
    held_out = framed_sequences(setup, eval_rng, setup.eval_sequences)
    predictions = predict(model, held_out.X, missing_value=setup.missing_value)
    keras.backend.clear_session(free_memory=False)
    return scored_run(setup, predictions, held_out, curves, seconds)


def framed_sequences(setup: Setup, rng: np.random.Generator, count: int):
    """`count` fresh sequences from `rng`, framed as the setup frames them."""
    return setup.frame(generate_sequences(rng, count, setup.length, setup.n_unique))


def scored_run(setup: Setup, predictions: np.ndarray, held_out, curves, train_seconds: float) -> Run:
    """The Run of a trained seed: its held-out scores, final loss, time and curves."""
    scores = score(predictions, held_out, whole_history=setup.whole_history,
                   score_from=setup.score_from)
    return Run(scores, float(curves.loss[-1]), train_seconds, curves)
