"""echo: the echo problem for recurrent networks, as in the Keras tutorial.

JAX is the default Keras backend (it compiles the whole training run into one
program; see docs/performance.md); TensorFlow works too when KERAS_BACKEND says so. One seed from
Python: `echo.run(echo.Setup(...), seed)` (Keras loads on first use).
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if os.environ["KERAS_BACKEND"] == "jax":
    # Keras seeds TensorFlow too when it is installed; keep its import quiet.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from echo.setup import Setup  # noqa: E402  (after the backend is chosen)


def __getattr__(name: str):
    """`echo.run`, imported on first use so that reading settings never loads Keras."""
    if name == "run":
        # Late: reading settings never loads Keras.
        from echo.protocol import run

        return run
    raise AttributeError(f"module 'echo' has no attribute {name!r}")


__all__ = ["Setup", "run"]
