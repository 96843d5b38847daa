"""Random integer sequences, as the tutorial draws them, and the random streams a seed fixes."""

import numpy as np

N_UNIQUE = 100
LENGTH = 25
# A seed's disjoint streams, in this order: training sequences, held-out sequences, initial weights.
STREAMS = ("training", "held-out", "weights")


def seed_stream(seed: int, stream: str) -> np.random.Generator:
    """The seed's `stream` (one of STREAMS), disjoint from its others: the i-th child of the
    seed's SeedSequence, so adding a stream never changes the ones before it."""
    child = np.random.SeedSequence(int(seed)).spawn(len(STREAMS))[STREAMS.index(stream)]
    return np.random.default_rng(child)


def generate_sequences(rng: np.random.Generator, count: int, length: int = LENGTH,
                       n_unique: int = N_UNIQUE) -> np.ndarray:
    """`count` sequences of `length` integers drawn uniformly from [0, n_unique)."""
    return rng.integers(0, n_unique, size=(count, length), dtype=np.int32)
