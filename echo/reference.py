"""The tutorial's own training loop, literally: one `model.fit` per sequence.

Slow (56-65 ms per epoch of echo-lag here, docs/performance.md, "Speed") and kept as the reference the
fast trainer is tested against. On JAX, the stateful layer's state variables are not tracked
by the model, so `fit` would silently drop the carried state; `track_state` registers them so
that `fit` threads them like any non-trainable variable.
"""

import keras
import numpy as np

from echo.compat import track_variables
from echo.encoding import encode
from echo.models import recurrent_layers, reset_state
from echo.records import Curves


def track_state(model: keras.Model) -> keras.Model:
    """Make `fit` carry stateful layers' state on every backend (idempotent)."""
    for layer in recurrent_layers(model):
        track_variables(layer, layer.states)
    return model


def train_reference(model: keras.Model, X: np.ndarray, y: np.ndarray, *,
                    missing_value: float = 0.0, reset_per_sequence: bool = True) -> Curves:
    """The tutorial's loop over epochs: fit one fresh sequence unshuffled, then reset state.

    Sequence targets weigh MISSING positions 0, as the fast trainer leaves them out.
    """
    track_state(model)
    batch_size, _, n_unique = model.input_shape
    losses, accuracies = [], []
    for X_epoch, y_epoch in zip(X, y):
        history = model.fit(
            keras.ops.convert_to_numpy(encode(X_epoch, n_unique, missing_value)),
            keras.ops.convert_to_numpy(keras.ops.one_hot(np.maximum(y_epoch, 0), n_unique)),
            sample_weight=(y_epoch >= 0).astype("float32") if y_epoch.ndim > 1 else None,
            epochs=1, batch_size=batch_size, verbose=0, shuffle=False)
        if reset_per_sequence:
            reset_state(model)
        losses.append(history.history["loss"][0])
        accuracies.append(history.history["accuracy"][0])
    return Curves(np.array(losses), np.array(accuracies))


def predict_reference(model: keras.Model, X: np.ndarray, *, missing_value: float = 0.0) -> np.ndarray:
    """Softmax outputs batch by batch with Keras's own stateful calls, state reset per sequence."""
    batch_size, _, n_unique = model.input_shape
    outputs = []
    for X_sequence in X:
        reset_state(model)
        encoded = encode(X_sequence, n_unique, missing_value)
        outputs.append(np.concatenate([
            keras.ops.convert_to_numpy(model(encoded[start:start + batch_size]))
            for start in range(0, len(X_sequence), batch_size)]))
    reset_state(model)
    return np.stack(outputs)
