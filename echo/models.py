"""Keras 3 model builders: a sequence layer (recurrent, as in the tutorial, or any a setup names)
and a softmax head."""

import keras

from echo.cells import CellError, sequence_layer
from echo.errors import one_line
from echo.initial import recorded_initializers
from echo.spec import UNROLL_UP_TO, ModelSpec


def build_model(spec: ModelSpec, drawn: bool = True) -> keras.Model:
    """Sequence layer -> Dense softmax over n_unique classes; Adam and cross-entropy.

    The `sequence` head returns the sequence layer's output at every step
    through TimeDistributed(Dense); the `encoder_decoder` head repeats the
    encoder's last output `out_steps` times into a second (stateless) layer.

    The batch size is part of the input shape: a stateful layer keeps one state
    row per batch row, so it needs it fixed. With `mask_value`, a Masking layer
    hides every step whose features all equal it from the sequence layer. A layer
    gets only the options it takes (`sequence_layer`); what it cannot do is refused.
    With `drawn=False` its trainable weights are zeros until set (`recorded_initializers`).
    """
    with recorded_initializers(drawn):
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
    if layer.last_step(spec.head):
        hidden = LastStep()(hidden)
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


@keras.saving.register_keras_serializable(package="echo")
class LastStep(keras.layers.Layer):
    """(batch, time, units) -> (batch, units): the last step of a layer that returns every
    step, for a head that wants one output per window. Masked steps come first (pre-padding),
    so the last step is always a real one."""

    def call(self, inputs):
        return inputs[:, -1, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def compute_mask(self, inputs, mask=None):
        return None


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


def check_builds(spec: ModelSpec) -> None:
    """A CellError, in one line, where the model of `spec` cannot be built."""
    try:
        build_model(spec)
    except Exception as error:  # noqa: BLE001  (the user's class, as one line)
        raise CellError(f"cell {spec.cell!r} cannot be built into a model with {spec.units} "
                        f"units ({one_line(error)})") from None
