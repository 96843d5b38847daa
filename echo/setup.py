"""A variant's settings: everything a run of the echo problem depends on but the seed.

Kept free of Keras so that the command line, the store and the reports can
read experiments without loading a deep-learning backend.
"""

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from echo import framings
from echo.scoring import counted_values
from echo.spec import ModelSpec, cell_label, cell_problem


@dataclass(frozen=True)
class Framing:
    """A problem framing, in one record: how a setup's sequences become rows (`frame`), what the
    network outputs (`head`: 'last', 'sequence' or 'encoder_decoder'), a line describing it for a
    setup, and whether padding stands for steps that never existed (so it leaves a row complete).
    A new framing is one entry in FRAMINGS."""

    frame: Callable
    describe: Callable
    reads: tuple[str, ...] = ()  # which of SHAPING it reads
    head: str = "last"
    whole_history: bool = False


SHAPING = ("window", "lag", "out_steps")  # settings that only some framings read


FRAMINGS = {
    "current": Framing(lambda s, setup: framings.current(s),
                       lambda setup: "one time step, y(t) = X(t)"),
    "lag_without_context": Framing(lambda s, setup: framings.lag_without_context(s, setup.lag),
                                   lambda setup: f"one time step, y(t) = X(t-{setup.lag})",
                                   reads=("lag",)),
    "lag_with_window": Framing(
        lambda s, setup: framings.lag_with_window(s, setup.window, setup.lag,
                                                  keep_incomplete=setup.missing != "drop"),
        lambda setup: (f"window {setup.window}, y(t) = X(t-{setup.lag}), "
                       f"incomplete rows: {setup.missing}"), reads=("window", "lag")),
    "history": Framing(lambda s, setup: framings.history(s, setup.lag),
                       lambda setup: (f"whole history padded to {setup.length} ({setup.missing}), "
                                      f"y(t) = X(t-{setup.lag})"),
                       reads=("lag",), whole_history=True),
    "lag_sequence": Framing(lambda s, setup: framings.lag_sequence(s, setup.window, setup.lag),
                            lambda setup: (f"window {setup.window}, every step s echoes "
                                           f"X(s-{setup.lag})"), reads=("window", "lag"),
                            head="sequence"),
    "delay_line": Framing(lambda s, setup: framings.delay_line(s, setup.window, setup.lag),
                          lambda setup: (f"pieces of {setup.window} fed whole, every step s "
                                         f"echoes X(s-{setup.lag})"), reads=("window", "lag"),
                          head="sequence"),
    "last_values": Framing(lambda s, setup: framings.last_values(s, setup.window, setup.out_steps),
                           lambda setup: (f"window {setup.window}, encoder-decoder echoes its "
                                          f"last {setup.out_steps} values"),
                           reads=("window", "out_steps"), head="encoder_decoder"),
}
# The setting `missing`: how rows whose window reaches before the sequence's start are treated,
# with the value their missing steps hold in the input: dropped (the tutorial), kept with the
# missing steps marked -1, the same behind a Masking layer, or kept with them all zeros.
TREATMENTS = {"drop": None, "mark": -1.0, "mask": -1.0, "zero": 0.0}
LARGEST = 2**31 - 1  # the largest integer setting: one that fits every backend's int32


SMALLEST_RATE = float(np.finfo(np.float32).tiny)  # a smaller rate is 0 or subnormal in float32
GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}  # weight matrices per unit of Keras's cells


def machine_memory() -> int:
    """This machine's physical memory in bytes: what bounds one run's sizes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


@dataclass(frozen=True)
class Setup:
    """A variant's complete settings: framing, model and protocol.

    `carry_state` keeps a stateful layer's state across training sequences
    (never reset) instead of the tutorial's reset per sequence; evaluation
    always starts each held-out sequence from zeros, on `eval_sequences` of them
    (1000, so that held-out noise is a small part of the spread between seeds).
    `learning_rate` is Adam's (the tutorial's default, 1e-3). `score_from` leaves rows
    before that time step out of `eval_accuracy` (they count as incomplete), so
    that variants framed with more rows are scored on the same rows as the others.
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
    eval_sequences: int = 1000
    score_from: int = 0
    learning_rate: float = 1e-3

    def __post_init__(self):
        if self.framing not in FRAMINGS:
            raise ValueError(f"unknown framing {self.framing!r}; choose from {', '.join(FRAMINGS)}")
        for name in ("epochs", "length", "n_unique", "eval_sequences", "units", "batch_size",
                     "window", "lag", "out_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for field in dataclasses.fields(self):
            if field.type is int and getattr(self, field.name) > LARGEST:
                raise ValueError(f"{field.name} must be at most {LARGEST:,}, got "
                                 f"{getattr(self, field.name):,}")
        if self.missing not in TREATMENTS:
            raise ValueError(f"unknown missing-value treatment {self.missing!r}; "
                             f"choose from {', '.join(TREATMENTS)}")
        if FRAMINGS[self.framing].whole_history and self.missing == "drop":
            raise ValueError(f"the {self.framing} framing pads every row: choose missing 'mask' "
                             "or 'zero'")
        if self.score_from < 0:
            raise ValueError(f"score_from must be at least 0, got {self.score_from}")
        if not SMALLEST_RATE <= self.learning_rate <= 1:
            raise ValueError(f"learning_rate must lie in (0, 1] and be a normal float32 (at "
                             f"least {SMALLEST_RATE:.3g}), got {self.learning_rate:g}")
        problem = cell_problem(self.cell)
        if problem:
            raise ValueError(problem)
        if self.carry_state and not self.stateful:
            raise ValueError("only a stateful layer can carry state across sequences")

    def check_rows(self) -> None:
        """Refuse settings the framing cannot train or score: more memory than this machine has
        (checked before anything is allocated), no rows, rows that do not fill whole batches, or
        nothing left to score from `score_from` on (a ValueError). Not in `__post_init__`: a
        setup built by steps of `replace` may pass through such settings."""
        self.check_memory()
        probe = self.probe()
        rows = probe.X.shape[-2]
        if rows == 0:
            raise ValueError(f"the {self.framing} framing makes no rows of a sequence of length "
                             f"{self.length} (window {self.window}, lag {self.lag})")
        if rows % self.batch_size:
            raise ValueError(f"the {self.framing} framing makes {rows} rows per sequence, not a "
                             f"whole number of batches of {self.batch_size}")
        if not counted_values(probe, self.whole_history, self.score_from):
            last = int(probe.t.max()) if probe.t is not None else rows - 1
            raise ValueError(f"score_from {self.score_from} leaves no row with full history to "
                             f"score (the last row is t = {last})")

    def least_bytes(self) -> dict[str, int]:
        """Lower bounds on the memory one run needs, from the settings alone (nothing is
        allocated): its sequences, one whole-history sequence framed, one batch's one-hot input,
        and the layer's and head's weights, each with its gradient and Adam's two moments."""
        framed = self.length * max(self.length - self.lag, 0) * 4 if self.whole_history else 0
        gates = GATES.get(self.cell, 1)  # a user's cell: at least one
        weights = gates * self.units * (self.units + self.n_unique) + self.units * self.n_unique
        return {"its sequences": (self.epochs + self.eval_sequences) * self.length * 4,
                "a framed sequence": framed,
                "a batch's one-hot input": self.batch_size * self.n_unique * 4,
                "its weights": 4 * 4 * weights}

    def check_memory(self, memory: int | None = None) -> None:
        """A ValueError where `least_bytes` exceed `memory` (this machine's by default)."""
        memory = memory or machine_memory()
        needed = self.least_bytes()
        if sum(needed.values()) > memory:
            largest = max(needed, key=needed.get)
            raise ValueError(f"one run needs at least {sum(needed.values()) / 2**30:,.1f} GiB "
                             f"(most for {largest}), more than this machine's "
                             f"{memory / 2**30:,.1f} GiB")

    def frame(self, sequences: np.ndarray) -> framings.Framed:
        """Apply this setup's framing to a stack of sequences."""
        return FRAMINGS[self.framing].frame(sequences, self)

    def probe(self) -> framings.Framed:
        """One sequence of zeros framed as this setup frames: the shapes of its rows."""
        return self.frame(np.zeros((1, self.length), np.int32))

    @property
    def whole_history(self) -> bool:
        """Whether padding stands for steps that never existed (so it leaves a row complete)."""
        return FRAMINGS[self.framing].whole_history

    def model_spec(self) -> ModelSpec:
        """The model this setup trains."""
        probe = self.probe()
        return ModelSpec(units=self.units, timesteps=probe.X.shape[-1], batch_size=self.batch_size,
                         stateful=self.stateful, cell=self.cell, n_unique=self.n_unique,
                         mask_value=TREATMENTS[self.missing] if self.missing == "mask" else None,
                         head=FRAMINGS[self.framing].head, out_steps=self.out_steps,
                         learning_rate=self.learning_rate)

    def data_bytes(self) -> int:
        """A lower bound on the memory one run's sequences take (training and held-out, as
        drawn, framed and cut into batches): a run needs at least this much to start."""
        probe = self.probe()
        per_sequence = self.length * 4 + 2 * (probe.X.nbytes + probe.y.nbytes)
        return per_sequence * (self.epochs + self.eval_sequences)

    def scored_values(self) -> int:
        """How many held-out values `eval_accuracy` counts for one seed: the binomial noise of
        a seed's score is p(1 - p) over this."""
        return self.eval_sequences * counted_values(self.probe(), self.whole_history,
                                                    self.score_from)

    @property
    def missing_value(self) -> float:
        """The value every feature of a missing step takes (0 when rows are dropped)."""
        return TREATMENTS[self.missing] or 0.0

    def replace(self, **changes) -> "Setup":
        return dataclasses.replace(self, **changes)

    @staticmethod
    def parse(key: str, text: str):
        """A setting's value from text (`units=25`, `stateful=false`), as its field's type."""
        types = {f.name: f.type for f in dataclasses.fields(Setup)}
        if key not in types:
            raise KeyError(key)
        field_type = types[key]
        if field_type is bool:
            if text.lower() not in ("true", "false"):
                raise ValueError(f"{key} is true or false, got {text!r}")
            return text.lower() == "true"
        try:
            value = field_type(text)
        except ValueError:
            raise ValueError(f"{key} takes {field_type.__name__} values, got {text!r}") from None
        if field_type is float and not np.isfinite(value):
            raise ValueError(f"{key} takes finite numbers, got {text!r}")
        return value

    def describe(self) -> str:
        """One line a reader can check against the tutorial."""
        shape = FRAMINGS[self.framing].describe(self)
        state = ("stateful, never reset" if self.carry_state
                 else "stateful" if self.stateful else "stateless")
        scored = f", scored from t = {self.score_from}" if self.score_from else ""
        return (f"{state} {cell_label(self.cell)}({self.units}), {shape}, batch {self.batch_size}, "
                f"{self.epochs} epochs, Adam {self.learning_rate:g}{scored}")
