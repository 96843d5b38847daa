"""Workarounds that reach into private APIs, in one place, each checked against the versions
it was written for so that an upgrade fails here with one line instead of silently elsewhere."""

import sys

import keras

KERAS_WRITTEN_FOR = "3.15.1"  # pinned in pyproject.toml
LOKY_WRITTEN_FOR = "joblib 1.4-1.6"


class CompatError(RuntimeError):
    """A private API a workaround relies on is gone: the workaround needs a look."""


def track_variables(layer: keras.layers.Layer, variables: list) -> None:
    """Make `layer` track `variables` it does not (idempotent): on JAX a stateful RNN layer's
    state is not among its variables, so `fit` would drop it. Keras 3 has no public way."""
    tracker = getattr(layer, "_tracker", None)
    if tracker is None or not hasattr(layer, "_track_variable"):
        raise CompatError(f"Keras {keras.__version__} has no Layer._tracker/_track_variable "
                          f"(written for {KERAS_WRITTEN_FOR}); see echo/compat.py")
    tracked = {id(v) for v in layer.variables}
    tracker.unlock()
    for variable in variables:
        if id(variable) not in tracked:
            layer._track_variable(variable)
    tracker.lock()


def allow_worker_growth(nbytes: int) -> None:
    """In a loky worker: let it grow by `nbytes` before loky takes it for a leak and restarts
    it (its default, 300 MB, is less than a worker's compiled programs take)."""
    # Late: loky's internals, patched only in a worker.
    from joblib.externals.loky import process_executor

    if not hasattr(process_executor, "_MAX_MEMORY_LEAK_SIZE"):
        raise CompatError("joblib's loky has no _MAX_MEMORY_LEAK_SIZE "
                          f"(written for {LOKY_WRITTEN_FOR}); see echo/compat.py")
    process_executor._MAX_MEMORY_LEAK_SIZE = nbytes


def skip_tensorflow_probe() -> None:
    """On the JAX backend, keep Keras's serialization (`get_config`) from importing TensorFlow,
    installed for the other backend, only to ask whether a value is one of its types: 3.6 s once
    per process here, and no value in a configuration of ours is. Where TensorFlow is imported
    already, or the backend is TensorFlow, nothing changes."""
    # Late: Keras's private module, read only where this applies.
    from keras.src.utils import module_utils

    lazy = getattr(module_utils, "tensorflow", None)
    if not (hasattr(lazy, "_available") and hasattr(lazy, "module")):
        raise CompatError(f"Keras {keras.__version__} has no module_utils.tensorflow LazyModule "
                          f"(written for {KERAS_WRITTEN_FOR}); see echo/compat.py")
    if keras.backend.backend() == "jax" and lazy.module is None and "tensorflow" not in sys.modules:
        lazy._available = False
