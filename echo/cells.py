"""The sequence layer a setup's cell names, and what it can do: Keras's recurrent layers by
name, or any importable Keras layer or cell, checked in one line before anything trains."""

import importlib
import inspect
from dataclasses import dataclass

import keras

from echo.errors import one_line

KERAS_LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}
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
        Only a keras.layers.RNN carries state: its state is what the trainer resets and threads.
        A layer returning every step feeds a one-output head through its last step (`last_step`)."""
        if stateful and not self.recurrent:
            return "cannot carry state: it is no keras.layers.RNN (or cell), so no stateful variant"
        if self.outputs == "last" and head != "last":
            return (f"returns one value per window, not one at every step (it takes no "
                    f"return_sequences), so no {head} head")
        return None

    def last_step(self, head: str) -> bool:
        """Whether the layer returns every step where the head wants one output per window, so
        its last step feeds the head (as MinGRU's parallel scan, which is no RNN, must)."""
        return self.outputs == "sequence" and head != "sequence"


def sequence_layer(cell: str) -> SequenceLayer:
    """What `cell` names: 'lstm', 'gru', 'simple_rnn', or an importable Keras layer or cell as
    'package.module:Name' taking the units as its first argument."""
    if cell in KERAS_LAYERS:
        return SequenceLayer(KERAS_LAYERS[cell], True, frozenset(OPTIONS))
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
    outputs = {2: "last", 3: "sequence"}.get(len(probe.shape))
    if outputs is None:
        raise ValueError(f"it maps (batch, time, features) = (1, 2, 3) to {tuple(probe.shape)}, "
                         "neither (batch, units) nor (batch, time, units)")
    return SequenceLayer(found, False, takes, outputs, masks)


def _takes(found: type, option: str) -> bool:
    """Whether the layer's constructor (or one of its classes' below keras.layers.Layer) names
    the option: **kwargs that Keras's Layer receives would refuse it."""
    return any(option in inspect.signature(k.__init__).parameters for k in found.__mro__
               if issubclass(k, keras.layers.Layer) and k is not keras.layers.Layer
               and "__init__" in vars(k))


class CellError(ValueError):
    """A cell that cannot be used as given: one line saying why."""


def usable(cell: str) -> SequenceLayer:
    """What `cell` names, or a CellError where it does not import, is no Keras layer or cell
    class, or cannot be made and called on (batch, time, features)."""
    module, _, name = cell.partition(":")
    try:
        found = KERAS_LAYERS.get(cell) or getattr(importlib.import_module(module), name)
    except (Exception, SystemExit) as error:  # noqa: BLE001  (the user's module, as one line)
        raise CellError(f"cell {cell!r} cannot be imported ({one_line(error)}); is its package "
                        "installed or on PYTHONPATH?") from None
    if not (isinstance(found, type) and issubclass(found, keras.layers.Layer)):
        raise CellError(f"cell {cell!r} is not a Keras layer or cell class")
    try:
        return sequence_layer(cell)
    except Exception as error:  # noqa: BLE001  (the user's class, as one line)
        raise CellError(f"cell {cell!r} cannot be made and called on (batch, time, features) "
                        f"({one_line(error)})") from None

