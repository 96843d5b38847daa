"""Random integer sequences and their one-hot encoding."""

import numpy as np

N_UNIQUE = 100
LENGTH = 25


def generate_sequences(rng: np.random.Generator, count: int, length: int = LENGTH,
                       n_unique: int = N_UNIQUE) -> np.ndarray:
    """`count` sequences of `length` integers drawn uniformly from [0, n_unique)."""
    return rng.integers(0, n_unique, size=(count, length), dtype=np.int32)


def one_hot_encode(values: np.ndarray, n_unique: int = N_UNIQUE) -> np.ndarray:
    """One-hot encode integers along a new last axis (vectorised, any shape)."""
    values = np.asarray(values)
    if values.size and (values.min() < 0 or values.max() >= n_unique):
        raise ValueError(f"values must lie in [0, {n_unique})")
    return np.eye(n_unique, dtype=np.float32)[values]


def one_hot_decode(encoded: np.ndarray) -> np.ndarray:
    """Invert one_hot_encode (or decode a softmax output): argmax over the last axis."""
    return np.asarray(encoded).argmax(axis=-1)
