"""echo: the echo problem for recurrent networks, as in the Keras tutorial.

JAX is the default Keras backend (it compiles the whole training run into one
program; see README); TensorFlow works too when KERAS_BACKEND says so.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if os.environ["KERAS_BACKEND"] == "jax":
    # Keras seeds TensorFlow too when it is installed; keep its import quiet.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
