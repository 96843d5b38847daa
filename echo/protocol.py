"""One run of the echo problem: a pure function of (setup, seed).

A Setup is everything a variant of an experiment fixes; `run` trains a fresh
model on `epochs` fresh sequences and scores it on held-out ones. The seed
fixes the initial weights and two disjoint random streams, one for training
sequences and one for evaluation, so variants with the same seed see the
same data (paired comparisons) and evaluation never sees a training sequence's
stream.
"""

import dataclasses
import time
from dataclasses import dataclass

import keras
import numpy as np

from echo import framings
from echo.models import ModelSpec, build_model
from echo.scoring import score
from echo.sequences import generate_sequences
from echo.training import Curves, predict, train

FRAMINGS = {
    "current": lambda s, setup: framings.current(s),
    "lag_without_context": lambda s, setup: framings.lag_without_context(s, setup.lag),
    "lag_with_window": lambda s, setup: framings.lag_with_window(
        s, setup.window, setup.lag, keep_incomplete=setup.missing != "drop"),
    "history": lambda s, setup: framings.history(s, setup.lag),
    "lag_sequence": lambda s, setup: framings.lag_sequence(s, setup.window, setup.lag),
    "last_values": lambda s, setup: framings.last_values(s, setup.window, setup.out_steps),
}
HEADS = {"lag_sequence": "sequence", "last_values": "encoder_decoder"}
# How rows whose window reaches before the sequence's start are treated:
# dropped (the tutorial), kept with the missing steps marked -1, the same behind
# a Masking layer, or kept with the missing steps all zeros.
MISSING = {"drop": None, "mark": -1.0, "mask": -1.0, "zero": 0.0}


@dataclass(frozen=True)
class Setup:
    """A variant's complete settings: framing, model and protocol.

    `carry_state` keeps a stateful layer's state across training sequences
    (never reset) instead of the tutorial's reset per sequence; evaluation
    always starts each held-out sequence from zeros.
    """

    framing: str = "lag_with_window"
    lag: int = 1
    window: int = 5
    units: int = 50
    batch_size: int = 5
    stateful: bool = True
    carry_state: bool = False
    missing: str = "drop"
    out_steps: int = 1
    cell: str = "lstm"
    epochs: int = 2000
    length: int = 25
    n_unique: int = 100
    eval_sequences: int = 100

    def __post_init__(self):
        if self.framing not in FRAMINGS:
            raise ValueError(f"unknown framing {self.framing!r}; choose from {', '.join(FRAMINGS)}")
        for name in ("epochs", "length", "n_unique", "eval_sequences", "units", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.missing not in MISSING:
            raise ValueError(f"unknown missing-value treatment {self.missing!r}; "
                             f"choose from {', '.join(MISSING)}")
        if self.framing == "history" and self.missing == "drop":
            raise ValueError("the history framing pads every row: choose missing 'mask' or 'zero'")
        if self.carry_state and not self.stateful:
            raise ValueError("only a stateful layer can carry state across sequences")

    def frame(self, sequences: np.ndarray) -> framings.Framed:
        """Apply this setup's framing to a stack of sequences."""
        return FRAMINGS[self.framing](sequences, self)

    def model_spec(self) -> ModelSpec:
        probe = self.frame(np.zeros((1, self.length), np.int32))
        return ModelSpec(units=self.units, timesteps=probe.X.shape[-1], batch_size=self.batch_size,
                         stateful=self.stateful, cell=self.cell, n_unique=self.n_unique,
                         mask_value=MISSING[self.missing] if self.missing == "mask" else None,
                         head=HEADS.get(self.framing, "last"), out_steps=self.out_steps)

    @property
    def missing_value(self) -> float:
        """The value every feature of a missing step takes (0 when rows are dropped)."""
        return MISSING[self.missing] or 0.0

    def replace(self, **changes) -> "Setup":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Run:
    """What one (setup, seed) produced; `scores` as from `echo.scoring.score`."""

    scores: dict[str, float]
    final_loss: float
    train_seconds: float
    curves: Curves

    @property
    def eval_accuracy(self) -> float:
        return self.scores["eval_accuracy"]


def streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Disjoint random streams for training and evaluation sequences."""
    train_seq, eval_seq = np.random.SeedSequence(int(seed)).spawn(2)
    return np.random.default_rng(train_seq), np.random.default_rng(eval_seq)


def initial_model(setup: Setup, seed: int) -> keras.Model:
    """A fresh model whose initial weights depend on the seed alone."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(int(seed))
    return build_model(setup.model_spec())


def run(setup: Setup, seed: int) -> Run:
    """Train on `epochs` fresh sequences, then score on `eval_sequences` held-out ones."""
    train_rng, eval_rng = streams(seed)
    model = initial_model(setup, seed)
    training = setup.frame(generate_sequences(train_rng, setup.epochs, setup.length, setup.n_unique))
    start = time.perf_counter()
    curves = train(model, training.X, training.y, missing_value=setup.missing_value,
                   reset_per_sequence=not setup.carry_state)
    seconds = time.perf_counter() - start
    held_out = setup.frame(
        generate_sequences(eval_rng, setup.eval_sequences, setup.length, setup.n_unique))
    predictions = predict(model, held_out.X, missing_value=setup.missing_value)
    keras.backend.clear_session()
    scores = score(predictions, held_out, whole_history=setup.framing == "history")
    return Run(scores, float(curves.loss[-1]), seconds, curves)
