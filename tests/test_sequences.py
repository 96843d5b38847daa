import numpy as np
import pytest

from echo.sequences import generate_sequences, one_hot_decode, one_hot_encode


def test_sequences_lie_in_range_with_requested_shape():
    values = generate_sequences(np.random.default_rng(0), 50, length=25, n_unique=100)
    assert values.shape == (50, 25)
    assert values.min() >= 0 and values.max() < 100
    assert len(np.unique(values)) > 90


def test_same_generator_seed_gives_same_sequences_and_prefixes_agree():
    a = generate_sequences(np.random.default_rng(7), 10)
    b = generate_sequences(np.random.default_rng(7), 20)
    np.testing.assert_array_equal(a, b[:10])


def test_one_hot_round_trip_on_any_shape():
    values = generate_sequences(np.random.default_rng(1), 4, length=6)
    encoded = one_hot_encode(values)
    assert encoded.shape == (4, 6, 100)
    assert encoded.sum(-1).tolist() == np.ones((4, 6)).tolist()
    np.testing.assert_array_equal(one_hot_decode(encoded), values)


def test_one_hot_rejects_out_of_range_values():
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        one_hot_encode(np.array([3, 10]), n_unique=10)
