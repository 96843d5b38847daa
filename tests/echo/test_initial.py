"""Initial weights: drawn from the seed alone, the same for a seed alone or in a chunk, on any
backend, and distributed as the layers' initializers declare."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import ops

from echo.initial import initial_weights, keras_drawn, recorded_initializers, weights_rng
from echo.models import build_model
from echo.protocol import initial_model, streams, template_model

from helpers import ROOT, model_kinds

SETUPS = model_kinds()


@pytest.mark.parametrize("name", SETUPS)
def test_a_seed_in_a_chunk_starts_from_the_weights_it_gets_alone(name):
    setup = SETUPS[name]
    chunk = initial_weights(template_model(setup), [3, 0, 5])
    for position, seed in ((1, 0), (2, 5)):
        alone = [np.asarray(v.value) for v in initial_model(setup, seed).trainable_variables]
        assert len(alone) == len(chunk)
        for stacked, value in zip(chunk, alone):
            np.testing.assert_array_equal(stacked[position], value)
    assert not np.array_equal(chunk[0][0], chunk[0][1])


def test_weights_follow_the_declared_initializers():
    model_spec = SETUPS["echo-lag"].model_spec()
    model = template_model(SETUPS["echo-lag"])
    kernel, recurrent, bias, dense_kernel, dense_bias = initial_weights(model, [11])
    for weights, (fan_in, fan_out) in ((kernel[0], (100, 200)), (dense_kernel[0], (50, 100))):
        limit = np.sqrt(6 / (fan_in + fan_out))  # glorot uniform
        assert np.abs(weights).max() <= limit and np.abs(weights).max() > 0.99 * limit
        assert weights.var() == pytest.approx(limit**2 / 3, rel=0.05)
    np.testing.assert_allclose(recurrent[0] @ recurrent[0].T, np.eye(50), atol=1e-5)  # orthogonal
    keras_own = [np.asarray(v.value) for v in build_model(model_spec).trainable_variables]
    np.testing.assert_array_equal(bias[0], keras_own[2])  # zeros, ones on the forget gate
    assert bias[0].sum() == 50 and not dense_bias.any()


@pytest.mark.parametrize("name", SETUPS)
def test_a_template_runs_no_initializer_of_keras_and_draws_as_a_drawn_model(name, monkeypatch):
    spec = SETUPS[name].model_spec()
    drawn = build_model(spec)
    calls = []
    for initializer in (keras.initializers.GlorotUniform, keras.initializers.Orthogonal):
        call = initializer.__call__
        monkeypatch.setattr(initializer, "__call__",
                            lambda self, *a, call=call, **k: calls.append(self) or call(self, *a, **k))
    template = template_model(SETUPS[name])
    assert calls == []
    assert not any(np.asarray(v.value).any() for v in template.trainable_variables)
    for ours, theirs in zip(initial_weights(template, [6, 2]), initial_weights(drawn, [6, 2])):
        np.testing.assert_array_equal(ours, theirs)


def test_the_weights_stream_is_apart_from_the_data_streams():
    draws = [rng.integers(2**31, size=4) for rng in (*streams(7), weights_rng(7))]
    assert len({tuple(d) for d in draws}) == 3
    assert np.array_equal(weights_rng(7).integers(2**31, size=4), draws[2])


def test_an_initializer_numpy_does_not_draw_is_keras_own_seeded_by_the_stream():
    inputs = keras.Input((3,))
    with recorded_initializers():
        model = keras.Model(inputs, keras.layers.Dense(4, kernel_initializer="random_normal",
                                                        bias_initializer="ones")(inputs))
    first, again, other = (initial_weights(model, [seed]) for seed in (1, 1, 2))
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])
    np.testing.assert_array_equal(first[1][0], np.ones(4))


class Scale(keras.layers.Layer):
    """A layer holding its weights under names of its own: one made by add_weight with an
    initializer no attribute names, one made as a keras.Variable (no initializer kept)."""

    def build(self, input_shape):
        self.gain = self.add_weight(shape=(input_shape[-1], 5), initializer="glorot_uniform")
        self.offset = keras.Variable(keras.random.normal((5,)), name="offset")

    def call(self, x):
        return ops.matmul(x, self.gain) + self.offset


def scale_model():
    inputs = keras.Input((3,))
    with recorded_initializers():
        return keras.Model(inputs, Scale(name="scale")(inputs))


def test_a_weight_under_a_name_of_its_own_is_drawn_from_the_initializer_add_weight_was_given():
    gain = [initial_weights(scale_model(), [seed], rebuild=scale_model)[0][0] for seed in (1, 1, 2)]
    np.testing.assert_array_equal(gain[0], gain[1])
    assert not np.array_equal(gain[0], gain[2])
    limit = np.sqrt(6 / (3 + 5))  # glorot_uniform, drawn with numpy as Dense's kernel is
    rng = weights_rng(1)
    np.testing.assert_allclose(gain[0], rng.uniform(-limit, limit, (3, 5)), rtol=1e-6)


def test_a_weight_with_no_initializer_known_is_keras_own_draw_under_the_seed_and_named():
    model = scale_model()
    assert keras_drawn(model) == ["scale/offset"]
    offsets = [initial_weights(scale_model(), [seed], rebuild=scale_model)[1][0]
               for seed in (1, 1, 2)]
    np.testing.assert_array_equal(offsets[0], offsets[1])
    assert not np.array_equal(offsets[0], offsets[2])
    chunk = initial_weights(model, [2, 1], rebuild=scale_model)[1]
    np.testing.assert_array_equal(chunk, [offsets[2], offsets[0]])  # per seed as alone
    with pytest.raises(ValueError, match="no initializer is known for scale/offset"):
        initial_weights(model, [0])


@pytest.mark.slow
@pytest.mark.skipif(not any(os.path.isdir(os.path.join(p, "tensorflow")) for p in sys.path if p),
                    reason="tensorflow is not installed")
def test_a_seed_starts_from_the_same_weights_on_tensorflow(tmp_path):
    script = ("import sys, numpy as np; from echo.protocol import initial_model; "
              "from experiments import discover; "
              "model = initial_model(discover()['echo-lag'].baseline_setup, 4); "
              "np.savez(sys.argv[1], *[np.asarray(v.value) for v in model.trainable_variables])")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "tf.npz")], cwd=ROOT,
                          env={**os.environ, "KERAS_BACKEND": "tensorflow"}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    on_tensorflow = np.load(tmp_path / "tf.npz")
    on_jax = initial_model(SETUPS["echo-lag"], 4).trainable_variables
    for index, variable in enumerate(on_jax):
        np.testing.assert_array_equal(on_tensorflow[f"arr_{index}"], np.asarray(variable.value))
