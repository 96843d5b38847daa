"""The fast trainer against the tutorial's loop, and the state it must carry."""

import dataclasses

import keras
import numpy as np
import pytest

from echo.encoding import encode
from echo.framings import lag_with_window
from echo.models import build_model, reset_state, state_variables
from echo.reference import predict_reference, train_reference
from echo.sequences import generate_sequences
from echo.spec import ModelSpec
from echo.training import clear_programs, predict, predict_probabilities, train

from helpers import each_kind, model_kinds

SPEC = ModelSpec(units=50, timesteps=5, batch_size=5, stateful=True)


def twin_models(spec=SPEC, seed=0):
    keras.utils.set_random_seed(seed)
    first = build_model(spec)
    second = build_model(spec)
    second.set_weights(first.get_weights())
    return first, second


def data(count, seed=0):
    return lag_with_window(generate_sequences(np.random.default_rng(seed), count), 5, 1)


def trainable(model):
    return [np.asarray(v.value) for v in model.trainable_variables]


def train_both(fast, reference, framed):
    """Train twin models with the fast trainer and the tutorial's loop; assert they end with the
    same weights and losses, and return both curves."""
    fast_curves = train(fast, framed.X, framed.y)
    reference_curves = train_reference(reference, framed.X, framed.y)
    for a, b in zip(trainable(fast), trainable(reference)):
        np.testing.assert_allclose(a, b, atol=2e-5)
    np.testing.assert_allclose(fast_curves.loss, reference_curves.loss, rtol=1e-5)
    return fast_curves, reference_curves


def test_fast_trainer_matches_the_tutorials_loop_after_20_epochs():
    fast, reference = twin_models()
    fast_curves, reference_curves = train_both(fast, reference, data(20))
    np.testing.assert_allclose(fast_curves.accuracy, reference_curves.accuracy)
    assert not np.allclose(trainable(fast)[0], twin_models()[0].trainable_variables[0].value)


def test_reference_loop_carries_state_out_of_fit():
    from echo.reference import track_state

    _, model = twin_models()
    framed = data(1)
    track_state(model)
    model.fit(np.asarray(encode(framed.X[0], 100)), np.asarray(keras.ops.one_hot(framed.y[0], 100)),
              batch_size=5, shuffle=False, verbose=0)
    assert all(np.abs(np.asarray(v.value)).sum() > 0 for v in state_variables(model))
    reset_state(model)
    assert all(np.abs(np.asarray(v.value)).sum() == 0 for v in state_variables(model))


def eager_probabilities(model, sequence_X, reset_each_batch=False):
    """Keras's own stateful calls on one sequence, batch by batch, optionally dropping state."""
    out = []
    for start in range(0, len(sequence_X), 5):
        if reset_each_batch:
            reset_state(model)
        out.append(np.asarray(model(encode(sequence_X[start:start + 5], 100))))
    return np.concatenate(out)


def test_state_is_carried_within_and_reset_between_sequences():
    model, _ = twin_models(seed=3)
    framed = data(2, seed=5)
    fast = predict_probabilities(model, framed.X)
    np.testing.assert_allclose(fast, predict_reference(model, framed.X), atol=1e-6)
    dropped = eager_probabilities(model, framed.X[1], reset_each_batch=True)
    assert np.abs(fast[1, 5:] - dropped[5:]).max() > 1e-4, "state must matter after the first batch"
    reset_state(model)
    eager_probabilities(model, framed.X[0])
    never_reset = eager_probabilities(model, framed.X[1])
    assert np.abs(fast[1, :5] - never_reset[:5]).max() > 1e-4, "state must not leak between sequences"


def test_carrying_state_across_sequences_changes_training():
    reset, carry = twin_models(seed=1)
    framed = data(10)
    train(reset, framed.X, framed.y)
    train(carry, framed.X, framed.y, reset_per_sequence=False)
    assert np.abs(trainable(reset)[1] - trainable(carry)[1]).max() > 1e-6


def test_training_is_deterministic_given_weights_and_sequences():
    a, b = twin_models(seed=2)
    framed = data(15)
    curves_a = train(a, framed.X, framed.y)
    curves_b = train(b, framed.X, framed.y)
    np.testing.assert_array_equal(curves_a.loss, curves_b.loss)
    for x, y in zip(trainable(a), trainable(b)):
        np.testing.assert_array_equal(x, y)


def test_a_program_compiled_at_one_learning_rate_trains_at_another_as_a_fresh_one():
    """The rate is optimizer state, not part of the program: reusing the program compiled at
    1e-3 for 1e-2 gives 1e-2's training bitwise, and the second model compiles nothing."""
    framed = data(8)

    def trained(spec):
        keras.backend.clear_session(free_memory=False)  # the same layer names, as runs have
        return train(twin_models(spec)[0], framed.X, framed.y)

    fast = dataclasses.replace(SPEC, learning_rate=1e-2)
    clear_programs()
    fresh = trained(fast)
    clear_programs()
    slow = trained(SPEC)
    reused = trained(fast)
    assert reused.compile_seconds == 0.0
    np.testing.assert_array_equal(reused.loss, fresh.loss)
    assert not np.allclose(slow.loss, fresh.loss)


def test_samples_must_fill_whole_batches():
    model, _ = twin_models(ModelSpec(units=4, batch_size=6))
    framed = data(2)
    with pytest.raises(ValueError, match="batches of 6"):
        train(model, framed.X, framed.y)


@pytest.mark.parametrize("framing, spec", [
    ("lag_sequence", ModelSpec(units=16, head="sequence")),
    ("last_values", ModelSpec(units=16, head="encoder_decoder", out_steps=3)),
])
def test_sequence_heads_match_the_tutorials_loop(framing, spec):
    from echo import framings

    sequences = generate_sequences(np.random.default_rng(0), 6)
    framed = (framings.lag_sequence(sequences, 5, 2) if framing == "lag_sequence"
              else framings.last_values(sequences, 5, 3))
    train_both(*twin_models(spec), framed)
    # Accuracy is not compared: ours is the fraction of scored values right, while Keras's
    # metric averages 2-D sample weights per sample first.


@pytest.mark.parametrize("cell", ["gru", "simple_rnn"])
def test_other_cells_match_the_tutorials_loop(cell):
    train_both(*twin_models(ModelSpec(units=16, cell=cell)), data(8))


@pytest.mark.parametrize("kind", each_kind(model_kinds()))
def test_predicted_values_are_the_argmax_of_the_softmax_outputs(kind):
    """The argmax is taken on the device; it must pick what the outputs' argmax picks."""
    from echo.protocol import initial_model

    setup = model_kinds()[kind].replace(eval_sequences=20)
    framed = setup.frame(generate_sequences(np.random.default_rng(1), setup.eval_sequences,
                                            setup.length))
    model = initial_model(setup, 0)
    probabilities = predict_probabilities(model, framed.X, missing_value=setup.missing_value)
    values = predict(model, framed.X, missing_value=setup.missing_value)
    assert values.shape == probabilities.shape[:-1]
    np.testing.assert_array_equal(values, probabilities.argmax(-1))
