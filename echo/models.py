"""Keras 3 model builders: a sequence layer (recurrent, as in the tutorial, or any a setup names)
and a softmax head."""

import importlib
import inspect
from dataclasses import dataclass

import keras

from echo.initial import recorded_initializers

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
    """Sequence layer -> Dense softmax over n_unique classes; Adam and cross-entropy.

    The `sequence` head returns the sequence layer's output at every step
    through TimeDistributed(Dense); the `encoder_decoder` head repeats the
    encoder's last output `out_steps` times into a second (stateless) layer.

    The batch size is part of the input shape: a stateful layer keeps one state
    row per batch row, so it needs it fixed. With `mask_value`, a Masking layer
    hides every step whose features all equal it from the sequence layer. A layer
    gets only the options it takes (`sequence_layer`); what it cannot do is refused.
    """
    with recorded_initializers():
        model = _model(spec)
    model.compile(optimizer=keras.optimizers.Adam(spec.learning_rate),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _model(spec: ModelSpec) -> keras.Model:
    inputs = keras.Input(batch_shape=(spec.batch_size, spec.timesteps, spec.n_unique))
    hidden = inputs
    if spec.mask_value is not None:
        hidden = keras.layers.Masking(mask_value=spec.mask_value)(hidden)
    layer = sequence_layer(spec.cell)
    refused = layer.refuses(spec.stateful, spec.head)
    if refused:
        raise ValueError(f"cell {spec.cell!r} {refused}")
    hidden = layer.make(spec.units, stateful=spec.stateful, unroll=spec.unrolled,
                        return_sequences=spec.head == "sequence")(hidden)
    softmax = keras.layers.Dense(spec.n_unique, activation="softmax")
    if spec.head == "last":
        outputs = softmax(hidden)
    else:
        if spec.head == "encoder_decoder":
            hidden = keras.layers.RepeatVector(spec.out_steps)(hidden)
            hidden = layer.make(spec.units, stateful=False, return_sequences=True,
                                unroll=spec.out_steps <= UNROLL_UP_TO)(hidden)
        outputs = keras.layers.TimeDistributed(softmax)(hidden)
    return keras.Model(inputs, outputs)


OPTIONS = ("stateful", "unroll", "return_sequences")  # what build_model asks of a layer


@dataclass(frozen=True)
class SequenceLayer:
    """The layer a setup's cell names and what it can do: a recurrent layer (Keras's, or a
    keras.layers.RNN subclass), a cell wrapped in keras.layers.RNN (both take every option), or
    any layer mapping (batch, time, features) to (batch, units) or (batch, time, units), which
    takes the options its constructor names. `outputs` is "last", "sequence" or "either"."""

    found: object
    recurrent: bool
    takes: frozenset
    outputs: str = "either"
    masks: bool = True  # whether it consumes a Masking layer's mask (Keras drops it otherwise)

    def make(self, units: int, **options) -> keras.layers.Layer:
        """The layer with `units`, given only the options it takes (a plain layer, none that it
        would have to refuse: stateful=False, unroll, and return_sequences where it decides)."""
        if self.recurrent and not issubclass(self.found, keras.layers.RNN):
            return keras.layers.RNN(self.found(units), **options)
        return self.found(units, **{k: v for k, v in options.items() if k in self.takes})

    def refuses(self, stateful: bool, head: str) -> str | None:
        """Why a variant with this statefulness and head cannot run with the layer, or None.
        Only a keras.layers.RNN carries state: its state is what the trainer resets and threads."""
        if stateful and not self.recurrent:
            return "cannot carry state: it is no keras.layers.RNN (or cell), so no stateful variant"
        wants = {"last": ("last",), "sequence": ("sequence",),
                 "encoder_decoder": ("last", "sequence")}[head]
        if self.outputs != "either" and wants != (self.outputs,):
            return ("returns a value at every step, not one per window" if self.outputs ==
                    "sequence" else "returns one value per window, not one at every step (it "
                    "takes no return_sequences)") + f", so no {head} head"
        return None


def sequence_layer(cell: str) -> SequenceLayer:
    """What `cell` names: 'lstm', 'gru', 'simple_rnn', or an importable Keras layer or cell as
    'package.module:Name' taking the units as its first argument."""
    if cell in CELLS:
        return SequenceLayer(CELLS[cell], True, frozenset(OPTIONS))
    module, _, name = cell.partition(":")
    found = getattr(importlib.import_module(module), name)
    if isinstance(found, type) and issubclass(found, keras.layers.RNN):
        return SequenceLayer(found, True, frozenset(OPTIONS))
    layer = found(1)
    if hasattr(layer, "state_size"):  # a cell
        return SequenceLayer(found, True, frozenset(OPTIONS))
    takes = frozenset(o for o in OPTIONS if _takes(found, o))
    masks = bool(getattr(layer, "supports_masking", False))
    if "return_sequences" in takes:
        return SequenceLayer(found, False, takes, masks=masks)
    probe = layer(keras.Input(batch_shape=(1, 2, 3)))
    return SequenceLayer(found, False, takes, "last" if len(probe.shape) == 2 else "sequence",
                         masks)


def _takes(found: type, option: str) -> bool:
    """Whether the layer's constructor (or one of its classes' below keras.layers.Layer) names
    the option: **kwargs that Keras's Layer receives would refuse it."""
    return any(option in inspect.signature(k.__init__).parameters for k in found.__mro__
               if issubclass(k, keras.layers.Layer) and k is not keras.layers.Layer
               and "__init__" in vars(k))


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
