"""Problem framings: turn sequences into (X, y) pairs of integer values.

Every framing works on a stack of sequences of shape (..., L) and returns
X of shape (..., samples, timesteps) and y of shape (..., samples). A step of
X that lies before the start of the sequence holds MISSING (-1); framings drop
such rows unless asked to keep them. Encoding to one-hot happens later
(`echo.encoding`), so framings stay cheap and exact.
"""

from dataclasses import dataclass

import numpy as np

MISSING = -1


@dataclass(frozen=True)
class Framed:
    """Inputs X (..., samples, timesteps) and targets y (..., samples), as integers, and the
    time step t (samples,) of each row in its sequence, where known."""

    X: np.ndarray
    y: np.ndarray
    t: np.ndarray | None = None


def current(sequences: np.ndarray) -> Framed:
    """Echo the current value: X(t) -> y(t) = X(t), one time step, L pairs."""
    sequences = np.asarray(sequences)
    return Framed(sequences[..., :, None], sequences.copy(), np.arange(sequences.shape[-1]))


def lag_without_context(sequences: np.ndarray, lag: int = 1) -> Framed:
    """The beginner's mistake: X(t) alone -> y(t) = X(t-lag), one time step.

    The first `lag` values have no target and are dropped: L - lag pairs,
    for 1..4 and lag 1 the pairs (2, 1), (3, 2), (4, 3).
    """
    _check_lag(lag)
    sequences = np.asarray(sequences)
    return Framed(sequences[..., lag:, None], sequences[..., :-lag].copy(),
                  np.arange(lag, sequences.shape[-1]))


def lag_with_window(sequences: np.ndarray, window: int = 5, lag: int = 1,
                    keep_incomplete: bool = False) -> Framed:
    """X(t-window+1 .. t) -> y(t) = X(t-lag).

    Dropping incomplete rows keeps t = window .. L-1: L - window pairs, as the
    tutorial's code does (its `values[5:]` also drops the first complete window,
    t = window-1), so window 5, lag 1 and L = 25 give 20 pairs. With
    `keep_incomplete` every row whose target exists is kept (t = lag .. L-1) and
    the steps before the sequence's start hold MISSING.
    """
    _check_lag(lag)
    if lag >= window:
        raise ValueError(f"the window ({window}) must contain X(t-lag) (lag {lag})")
    sequences = np.asarray(sequences)
    length = sequences.shape[-1]
    first = lag if keep_incomplete else window
    t = np.arange(first, length)
    steps = t[:, None] + np.arange(1 - window, 1)[None, :]
    padded = np.concatenate(
        [np.full(sequences.shape[:-1] + (window,), MISSING, sequences.dtype), sequences], axis=-1)
    return Framed(padded[..., steps + window], sequences[..., t - lag], t)


def lag_sequence(sequences: np.ndarray, window: int = 5, lag: int = 1) -> Framed:
    """X(t-window+1 .. t) -> at every step s of the window, y(s) = X(s-lag).

    Rows as `lag_with_window`; y is (..., samples, window) and its first `lag`
    steps hold MISSING: their targets lie before the window, never seen by the
    network, so they are left out of the loss and the score.
    """
    framed = lag_with_window(sequences, window, lag)
    return Framed(framed.X, _every_step(framed.X, lag), framed.t)


def delay_line(sequences: np.ndarray, window: int = 50, lag: int = 1) -> Framed:
    """Consecutive pieces of `window` values, each fed whole as one row from a fresh state -> at
    every step s of a piece, y(s) = X(s-lag).

    No sliding window: at every step the network must hold the last `lag` values at once (a
    delay line of `lag` slots). L // window rows; y's first `lag` steps of each row hold MISSING
    (their values lie in the piece before, never seen by this row)."""
    _check_lag(lag)
    if lag >= window:
        raise ValueError(f"the window ({window}) must be longer than the lag ({lag})")
    sequences = np.asarray(sequences)
    rows = sequences.shape[-1] // window
    X = sequences[..., :rows * window].reshape(*sequences.shape[:-1], rows, window)
    return Framed(X.copy(), _every_step(X, lag), np.arange(1, rows + 1) * window - 1)


def _every_step(X: np.ndarray, lag: int) -> np.ndarray:
    """Targets at every step s of each row: X(s-lag), MISSING for the first `lag` steps (their
    values lie before the row, never seen by it)."""
    y = np.full_like(X, MISSING)
    y[..., lag:] = X[..., :-lag]
    return y


def last_values(sequences: np.ndarray, window: int = 5, count: int = 3) -> Framed:
    """X(t-window+1 .. t) -> the window's last `count` values in order, X(t-count+1 .. t)."""
    if not 1 <= count <= window:
        raise ValueError(f"count must lie in 1..{window}, got {count}")
    framed = lag_with_window(sequences, window, 1)
    return Framed(framed.X, framed.X[..., window - count:].copy(), framed.t)


def history(sequences: np.ndarray, lag: int = 1) -> Framed:
    """X(0 .. t), pre-padded with MISSING to the sequence's length -> y(t) = X(t-lag).

    The whole history as time steps, built up as the sequence unfolds: rows
    t = lag .. L-1, each of L time steps; a window as long as the sequence.
    """
    sequences = np.asarray(sequences)
    return lag_with_window(sequences, sequences.shape[-1], lag, keep_incomplete=True)


def _check_lag(lag: int) -> None:
    if lag < 1:
        raise ValueError(f"lag must be at least 1, got {lag}")
