"""One-hot inputs multiplied as gathers (echo.gather): the same values as the one-hot program,
for small functions with exact answers and for every kind of model the experiments and users
build, and no product over the one-hot features left where a gather can take its place."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from jax.extend.core import ClosedJaxpr, Jaxpr

from echo.encoding import encode
from echo.gather import gathered
from echo.models import build_model, state_variables
from echo.protocol import initial_model
from echo.spec import ModelSpec
from echo.training import _forward

from helpers import each_kind, model_kinds

N = 7
VALUES = np.array([[3, -1, 0], [6, 2, -1]], np.int32)  # two rows of three steps, two missing
KERNEL = np.arange(N * 4, dtype=np.float32).reshape(N, 4) / 10


def _both(fn, missing=0.0, values=VALUES):
    """fn's result on the one-hot encoding of `values`, and through the gathers."""
    dense = jax.jit(lambda w, v: fn(w, encode(v, N, missing)))(KERNEL, values)
    gathers = jax.jit(gathered(fn, N, missing))(KERNEL, values)
    return np.asarray(dense), np.asarray(gathers)


def _contracted_sizes(fn, *arguments) -> list:
    """The sizes of the dimensions every product in fn's program contracts."""
    sizes = []

    def visit(jaxpr):
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == "dot_general":
                (contract, _), _ = eqn.params["dimension_numbers"]
                sizes.extend(eqn.invars[0].aval.shape[d] for d in contract)
            for value in eqn.params.values():
                for sub in value if isinstance(value, tuple) else (value,):
                    if isinstance(sub, (ClosedJaxpr, Jaxpr)):
                        visit(getattr(sub, "jaxpr", sub))

    visit(jax.make_jaxpr(fn)(*arguments).jaxpr)
    return sizes


@pytest.mark.parametrize("missing", [0.0, -1.0])
def test_a_product_with_the_one_hot_rows_is_the_kernels_rows(missing):
    dense, gathers = _both(lambda w, e: e @ w, missing)
    expected = np.where((VALUES < 0)[..., None], missing * KERNEL.sum(0), KERNEL[np.maximum(VALUES, 0)])
    np.testing.assert_allclose(dense, expected, rtol=1e-6)
    np.testing.assert_allclose(gathers, expected, rtol=1e-6)
    assert N not in _contracted_sizes(gathered(lambda w, e: e @ w, N, missing), KERNEL, VALUES)


def test_the_one_hot_operand_may_be_on_the_right_and_moved_first():
    def fn(w, e):
        steps = jnp.transpose(e, (1, 0, 2))  # time-major, as a recurrent loop takes it
        return [w.T @ step.T for step in steps]

    for dense, gathers in zip(*_both(fn, -1.0)):
        np.testing.assert_allclose(gathers, dense, rtol=1e-6)
    assert N not in _contracted_sizes(gathered(fn, N, -1.0), KERNEL, VALUES)


def test_a_masking_layers_zeros_and_a_scan_over_time_keep_the_gathers():
    def fn(w, e):  # what keras.layers.Masking(-1) then a loop over time do
        kept = jnp.where(jnp.any(e != -1.0, axis=-1, keepdims=True), e, 0.0)
        return jax.lax.scan(lambda h, x: (jnp.tanh(x @ w + h), h), jnp.zeros((2, 4)),
                            jnp.swapaxes(kept, 0, 1))

    (dense_h, dense_ys), (gathers_h, gathers_ys) = (jax.jit(f)(KERNEL, VALUES) for f in (
        lambda w, v: fn(w, encode(v, N, -1.0)), gathered(fn, N, -1.0)))
    np.testing.assert_allclose(gathers_h, dense_h, rtol=1e-6)
    np.testing.assert_allclose(gathers_ys, dense_ys, rtol=1e-6)
    assert N not in _contracted_sizes(gathered(fn, N, -1.0), KERNEL, VALUES)


def test_any_other_use_gets_the_one_hot_array_itself():
    def fn(w, e):
        flat = e.reshape(2, 3 * N)  # the steps side by side: no longer rows of one value each
        return flat @ jnp.tile(w, (3, 1)) + jnp.sum(e * 2.0) + jnp.max(e[..., 1:3])

    dense, gathers = _both(fn, -1.0)
    np.testing.assert_allclose(gathers, dense, rtol=1e-6)


def test_values_out_of_range_are_rows_of_zeros_as_in_one_hot():
    values = np.array([[N, N + 3, 1]], np.int32)
    dense, gathers = _both(lambda w, e: e @ w, 0.0, values)
    np.testing.assert_array_equal(gathers, dense)
    np.testing.assert_array_equal(gathers[0, :2], 0.0)


def _forward_and_gradients(model, missing_value, gather, x):
    forward = _forward(model, model.output_shape[-1], missing_value, gather)
    trainable = [v.value for v in model.trainable_variables]
    states = [jnp.full(v.shape, 0.1, v.dtype) for v in state_variables(model)]

    def loss(trainable):
        probs, new_states = forward(trainable, states, x)
        return jnp.sum(jnp.log(probs) * 0.3) + sum(jnp.sum(s) for s in new_states), probs

    (_, probs), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(trainable)
    return [probs, *grads]


def _close(actual, desired):
    """Equal to float tolerance: the gradients' sums are added in another order."""
    np.testing.assert_allclose(actual, desired, rtol=1e-5, atol=1e-6 * np.abs(desired).max())


def _inputs(model, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, model.output_shape[-1], model.input_shape[:2]).astype(np.int32)
    x[0, :2] = -1  # missing steps, as a kept incomplete window holds them
    return x


@pytest.mark.parametrize("kind", each_kind(sorted(model_kinds())))
def test_every_kind_of_model_computes_what_its_one_hot_program_does(kind):
    setup = model_kinds()[kind]
    model = initial_model(setup, 3)
    x = _inputs(model)
    dense = _forward_and_gradients(model, setup.missing_value, False, x)
    gathers = _forward_and_gradients(model, setup.missing_value, True, x)
    for a, b in zip(dense, gathers):
        _close(b, a)
    forward = _forward(model, model.output_shape[-1], setup.missing_value, gather=True)
    trainable = [v.value for v in model.trainable_variables]
    states = [v.value for v in state_variables(model)]
    assert model.output_shape[-1] not in _contracted_sizes(forward, trainable, states, x)


@pytest.mark.parametrize("cell", ["tests.architectures:OwnNamesCell",
                                  "tests.architectures:TwoStateRNN",
                                  "tests.architectures:WindowMLP"])
def test_a_users_layer_computes_what_its_one_hot_program_does(cell):
    keras.utils.set_random_seed(1)
    model = build_model(ModelSpec(units=8, cell=cell, stateful=cell.endswith("RNN"),
                                  n_unique=20))
    x = _inputs(model)
    for a, b in zip(_forward_and_gradients(model, -1.0, False, x),
                    _forward_and_gradients(model, -1.0, True, x)):
        _close(b, a)
