"""Random integer sequences, as the tutorial draws them."""

import numpy as np

N_UNIQUE = 100
LENGTH = 25


def generate_sequences(rng: np.random.Generator, count: int, length: int = LENGTH,
                       n_unique: int = N_UNIQUE) -> np.ndarray:
    """`count` sequences of `length` integers drawn uniformly from [0, n_unique)."""
    return rng.integers(0, n_unique, size=(count, length), dtype=np.int32)
