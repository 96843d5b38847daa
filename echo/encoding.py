"""One-hot encoding inside the compiled program, with a value for missing steps."""

from keras import ops


def encode(values, n_unique: int, missing_value: float = 0.0):
    """One-hot encode integer values; MISSING (negative) steps get `missing_value` in every feature."""
    onehot = ops.one_hot(ops.maximum(values, 0), n_unique, dtype="float32")
    missing = ops.expand_dims(ops.less(values, 0), -1)
    return ops.where(missing, ops.full_like(onehot, missing_value), onehot)
