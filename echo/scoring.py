"""Scores derived from a run's curves."""

import numpy as np

TRAILING = 20


def epochs_to_reach(accuracy: np.ndarray, threshold: float = 0.99, span: int = TRAILING) -> float:
    """First epoch (1-based) whose trailing mean training accuracy over `span` epochs reaches
    `threshold`; NaN if the run never does. Averaging over a span keeps one lucky sequence from
    counting as learned."""
    accuracy = np.asarray(accuracy, dtype=float)
    if len(accuracy) < span:
        return float("nan")
    trailing = np.convolve(accuracy, np.ones(span) / span, mode="valid")
    reached = np.flatnonzero(trailing >= threshold - 1e-9)
    return float(reached[0] + span) if reached.size else float("nan")
