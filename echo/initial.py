"""Initial weights drawn with numpy from the seed alone, for one seed or a chunk at once.

Keras draws initial weights with its backend's random generator, so the same seed
started from other weights on TensorFlow than on JAX, and a chunk of seeds needed a model
built per seed. Here each trainable variable's initializer (as its layer declares it) is
evaluated with numpy on the seed's own stream: the same weights on every backend, and a
whole chunk of seeds from one template model. An initializer numpy does not know falls back
to Keras's own, seeded from the same stream (then the weights depend on the backend); so does a
variable whose initializer is not known at all (a model is rebuilt under that seed).
"""

from contextlib import contextmanager

import keras
import numpy as np

from echo.sequences import seed_stream

# A variable's initializer is the attribute `NAME_initializer` of the layer holding it as NAME,
# but for these.
INITIALIZERS = {"recurrent_kernel": "recurrent_initializer"}


def weights_rng(seed: int) -> np.random.Generator:
    """The seed's stream for initial weights, disjoint from its data streams."""
    return seed_stream(seed, "weights")


def initial_weights(model: keras.Model, seeds: list[int], rebuild=None) -> list[np.ndarray]:
    """Every trainable variable's initial value for each seed, stacked along a leading seed axis
    (float32, in the order of `model.trainable_variables`). A variable whose initializer is not
    known (`keras_drawn`) takes Keras's own draw under a seed from the seed's stream: the
    variable as `rebuild()` (a fresh model of the same setup) builds it under that seed."""
    rngs = [weights_rng(seed) for seed in seeds]
    draws = [_initializer_of(model, variable) for variable in model.trainable_variables]
    values = [draw(rngs).astype(np.float32) if draw else None for draw in draws]
    unknown = [i for i, value in enumerate(values) if value is None]
    if unknown:
        if rebuild is None:
            raise ValueError(f"no initializer is known for {model.trainable_variables[unknown[0]].path}"
                             " and no model to rebuild under a seed")
        drawn = []
        for rng in rngs:
            keras.utils.set_random_seed(int(rng.integers(2**31)))
            drawn.append(rebuild().trainable_variables)
        for i in unknown:
            values[i] = np.stack([np.asarray(v[i].value) for v in drawn]).astype(np.float32)
    return values


def set_initial_weights(model: keras.Model, seed: int, rebuild=None) -> keras.Model:
    """Give `model` the seed's initial weights (in place) and return it."""
    for variable, value in zip(model.trainable_variables,
                               initial_weights(model, [seed], rebuild)):
        variable.assign(value[0])
    return model


def keras_drawn(model: keras.Model) -> list[str]:
    """The trainable variables whose initializer is not known here (made without add_weight's
    initializer): their initial values are Keras's own draw, so they differ between backends."""
    return [v.path for v in model.trainable_variables if _initializer_of(model, v) is None]


@contextmanager
def recorded_initializers(drawn: bool = True):
    """While building a model: note on every variable a layer makes with `add_weight` the
    initializer it was given (Keras keeps none once the value is drawn), so that any layer's
    weights, under whatever attribute names it keeps them, are drawn from the seed. With
    `drawn=False` a trainable weight starts as zeros instead: for a template whose weights
    `initial_weights` draws, built without running Keras's initializers (JAX programs compiled
    once per process and shape: about a second of a worker's first run of an LSTM)."""
    original = keras.layers.Layer.add_weight

    def add_weight(layer, *args, **options):
        options = {**dict(zip(("shape", "initializer", "dtype"), args)), **options}
        given = options.get("initializer")
        if not drawn and options.get("trainable", True):
            options["initializer"] = _undrawn
        variable = original(layer, **options)
        variable.echo_initializer = keras.initializers.get(
            given if given is not None else "glorot_uniform")
        return variable

    keras.layers.Layer.add_weight = add_weight
    try:
        yield
    finally:
        keras.layers.Layer.add_weight = original


def _undrawn(shape, dtype=None) -> np.ndarray:
    """Zeros, made by numpy: a template's weight before `initial_weights` draws it."""
    return np.zeros(shape, keras.backend.standardize_dtype(dtype or "float32"))


def _initializer_of(model: keras.Model, variable):
    """A function (one rng per seed) -> the variable's initial value for each seed, stacked, from
    the initializer its layer declares, or None where none is known:
    for a variable the layer (or its cell) holds as `name`, its `name_initializer` attribute
    (`recurrent_initializer` for `recurrent_kernel`), as Keras's own layers name them; else the
    initializer `add_weight` was given (`recorded_initializers`: so Dense's kernel, which it keeps
    under a private name, is found without reading one)."""
    for layer in model.layers:
        owners = (layer, getattr(layer, "cell", None), getattr(layer, "layer", None))
        for owner in filter(None, owners):
            name = next((key for key, value in vars(owner).items() if value is variable), None)
            if name is None:
                continue
            shape = tuple(variable.shape)
            if name == "bias" and getattr(owner, "unit_forget_bias", False):
                return lambda rngs: np.stack([_forget_bias(shape, owner.units)] * len(rngs))
            attribute = INITIALIZERS.get(name, f"{name}_initializer")
            if hasattr(owner, attribute):
                return _draw(getattr(owner, attribute), shape)
    recorded = getattr(variable, "echo_initializer", None)
    return _draw(recorded, tuple(variable.shape)) if recorded is not None else None


def _draw(initializer, shape: tuple):
    """rngs -> a value of `shape` per seed drawn as `initializer` draws, with numpy where it is
    known; each seed's rng draws its variables one after another, in the model's order."""
    drawn_as = type(initializer)
    if drawn_as is keras.initializers.Zeros:
        return lambda rngs: np.zeros((len(rngs),) + shape)
    if drawn_as is keras.initializers.Ones:
        return lambda rngs: np.ones((len(rngs),) + shape)
    if isinstance(initializer, keras.initializers.Orthogonal):
        return lambda rngs: initializer.gain * _orthogonal(rngs, shape)
    if (isinstance(initializer, keras.initializers.VarianceScaling)
            and initializer.distribution == "uniform"):
        limit = np.sqrt(3 * initializer.scale / _fan(shape, initializer.mode))
        return lambda rngs: np.stack([rng.uniform(-limit, limit, shape) for rng in rngs])
    if not isinstance(initializer, keras.initializers.Initializer):  # a function
        return lambda rngs: np.stack([_seeded(initializer, rng, shape) for rng in rngs])
    config = initializer.get_config()
    if "seed" not in config:  # a constant, drawn the same whatever the seed
        return lambda rngs: np.stack([np.asarray(initializer(shape, "float32"))] * len(rngs))
    return lambda rngs: np.stack([np.asarray(type(initializer).from_config(
        {**config, "seed": int(rng.integers(2**31))})(shape, "float32")) for rng in rngs])


def _seeded(initializer, rng, shape: tuple) -> np.ndarray:
    """An initializer function's value, Keras's global seed taken from the seed's stream."""
    keras.utils.set_random_seed(int(rng.integers(2**31)))
    return np.asarray(initializer(shape, "float32"))


def _orthogonal(rngs: list, shape: tuple) -> np.ndarray:
    """A random orthogonal matrix per seed (rows or columns orthonormal), as
    keras.initializers.Orthogonal; the seeds' QR decompositions in one call."""
    rows, columns = int(np.prod(shape[:-1])), shape[-1]
    normal = np.stack([rng.standard_normal((max(rows, columns), min(rows, columns)))
                       for rng in rngs])
    q, r = np.linalg.qr(normal)
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[:, None, :]
    return (q.transpose(0, 2, 1) if rows < columns else q).reshape((len(rngs),) + shape)


def _fan(shape: tuple, mode: str) -> float:
    """The fan a VarianceScaling initializer divides its scale by (Keras's rule)."""
    if len(shape) < 2:
        fan_in = fan_out = shape[0] if shape else 1
    else:
        receptive = int(np.prod(shape[:-2]))
        fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
    return max(1.0, {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode])


def _forget_bias(shape: tuple, units: int) -> np.ndarray:
    """An LSTM's bias with `unit_forget_bias`: zeros, but ones on the forget gate."""
    bias = np.zeros(shape)
    bias[units:2 * units] = 1.0
    return bias
