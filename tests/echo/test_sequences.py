import numpy as np

from echo.encoding import encode
from echo.framings import MISSING
from echo.sequences import generate_sequences


def test_sequences_lie_in_range_with_requested_shape():
    values = generate_sequences(np.random.default_rng(0), 50, length=25, n_unique=100)
    assert values.shape == (50, 25)
    assert values.min() >= 0 and values.max() < 100
    assert len(np.unique(values)) > 90


def test_same_generator_seed_gives_same_sequences_and_prefixes_agree():
    a = generate_sequences(np.random.default_rng(7), 10)
    b = generate_sequences(np.random.default_rng(7), 20)
    np.testing.assert_array_equal(a, b[:10])


def test_one_hot_encoding_round_trips_and_fills_missing_steps():
    values = generate_sequences(np.random.default_rng(1), 4, length=6)
    values[0, :2] = MISSING
    encoded = np.asarray(encode(values, 100, missing_value=-1.0))
    assert encoded.shape == (4, 6, 100)
    np.testing.assert_array_equal(encoded[0, :2], -np.ones((2, 100)))
    assert encoded[1:].sum(-1).tolist() == np.ones((3, 6)).tolist()
    np.testing.assert_array_equal(encoded[1:].argmax(-1), values[1:])
