"""Keras 3 model builders: a recurrent layer and a softmax head, as in the tutorial."""

import importlib
from dataclasses import dataclass

import keras

UNROLL_UP_TO = 10
CELLS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}
# What the network outputs: one value (the last step's), a value at every input
# step, or `out_steps` values decoded from the encoder's summary of the window.
HEADS = ("last", "sequence", "encoder_decoder")


@dataclass(frozen=True)
class ModelSpec:
    """What the tutorial varies: the cell, its units, statefulness and the input's shape."""

    units: int = 50
    timesteps: int = 5
    batch_size: int = 5
    stateful: bool = True
    cell: str = "lstm"
    n_unique: int = 100
    learning_rate: float = 1e-3
    unroll: bool | None = None
    mask_value: float | None = None
    head: str = "last"
    out_steps: int = 1

    @property
    def unrolled(self) -> bool:
        """Unroll short inputs: same math, and on CPU a third faster than a loop over 5 steps."""
        return self.timesteps <= UNROLL_UP_TO if self.unroll is None else self.unroll

    def __post_init__(self):
        if self.cell not in CELLS and ":" not in self.cell:
            raise ValueError(f"unknown cell {self.cell!r}; choose from {', '.join(CELLS)}, or "
                             "name an importable layer or cell as package.module:Name")
        if self.head not in HEADS:
            raise ValueError(f"unknown head {self.head!r}; choose from {', '.join(HEADS)}")


def build_model(spec: ModelSpec) -> keras.Model:
    """Recurrent layer -> Dense softmax over n_unique classes; Adam and cross-entropy.

    The `sequence` head returns the recurrent layer's output at every step
    through TimeDistributed(Dense); the `encoder_decoder` head repeats the
    encoder's last output `out_steps` times into a second (stateless) layer.

    The batch size is part of the input shape: a stateful layer keeps one state
    row per batch row, so it needs it fixed. With `mask_value`, a Masking layer
    hides every step whose features all equal it from the recurrent layer.
    """
    inputs = keras.Input(batch_shape=(spec.batch_size, spec.timesteps, spec.n_unique))
    hidden = inputs
    if spec.mask_value is not None:
        hidden = keras.layers.Masking(mask_value=spec.mask_value)(hidden)
    cell = recurrent_layer(spec.cell)
    hidden = cell(spec.units, stateful=spec.stateful, unroll=spec.unrolled,
                  return_sequences=spec.head == "sequence")(hidden)
    softmax = keras.layers.Dense(spec.n_unique, activation="softmax")
    if spec.head == "last":
        outputs = softmax(hidden)
    else:
        if spec.head == "encoder_decoder":
            hidden = keras.layers.RepeatVector(spec.out_steps)(hidden)
            hidden = cell(spec.units, return_sequences=True, unroll=spec.out_steps <= UNROLL_UP_TO)(hidden)
        outputs = keras.layers.TimeDistributed(softmax)(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(spec.learning_rate),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def recurrent_layer(cell: str):
    """The recurrent layer a setup names: 'lstm', 'gru', 'simple_rnn', or any importable Keras
    recurrent layer or cell given as 'package.module:Name' (a cell is wrapped in
    keras.layers.RNN); either takes the units as its first argument."""
    if cell in CELLS:
        return CELLS[cell]
    module, _, name = cell.partition(":")
    found = getattr(importlib.import_module(module), name)
    if isinstance(found, type) and issubclass(found, keras.layers.RNN):
        return found

    def wrapped(units, **options):
        return keras.layers.RNN(found(units), **options)

    return wrapped


def recurrent_layers(model: keras.Model) -> list:
    """The model's stateful recurrent layers, whose state the protocol resets per sequence."""
    return [layer for layer in model.layers
            if isinstance(layer, keras.layers.RNN) and layer.stateful]


def state_variables(model: keras.Model) -> list:
    """The variables holding the carried state of every stateful recurrent layer."""
    return [v for layer in recurrent_layers(model) for v in layer.states]


def reset_state(model: keras.Model) -> None:
    """Reset the carried state of every stateful recurrent layer (Keras 3 has no Model.reset_states)."""
    for layer in recurrent_layers(model):
        layer.reset_state()
