"""Scores of a run: held-out accuracies, and epochs to learn from its curves."""

import numpy as np

from echo.framings import MISSING, Framed

SCORES = ("eval_accuracy", "eval_accuracy_incomplete", "eval_sequence_accuracy")
TRAILING = 20  # epochs averaged before a run counts as having reached a training accuracy
LEARNED = 0.99  # the accuracy that counts as learned: epochs_to_99, the grids' learned cells


def counted_values(framed: Framed, whole_history: bool = False, score_from: int = 0) -> int:
    """How many values of `framed` `eval_accuracy` counts (see `score`)."""
    valid = (framed.y >= 0).reshape(framed.y.shape[:-1 if framed.y.ndim > 2 else None] + (-1,))
    return int(valid[~_incomplete(framed, whole_history, score_from)].sum())


def _incomplete(framed: Framed, whole_history: bool, score_from: int) -> np.ndarray:
    """Rows left out of `eval_accuracy`: with missing steps (unless padding stands for steps that
    never existed), or before `score_from`."""
    incomplete = (framed.X == MISSING).any(axis=-1) & (not whole_history)
    if framed.t is not None:
        incomplete = incomplete | (framed.t < score_from)
    return incomplete


def score(predictions: np.ndarray, held_out: Framed, whole_history: bool = False,
          score_from: int = 0) -> dict:
    """Held-out scores, each a fraction in [0, 1] or NaN where it does not apply.

    eval_accuracy: values echoed correctly on rows whose input has no missing
    step and whose time step is at least `score_from` (the rows every variant of
    an experiment predicts, so variants are scored alike; with `whole_history`,
    padding stands for steps that never existed, so it does not make a row incomplete);
    eval_accuracy_incomplete: the same on the other rows;
    eval_sequence_accuracy: for sequence outputs, rows whose every scored
    value is right (exact match).
    """
    seed_axis = Framed(held_out.X[None], held_out.y[None], held_out.t)
    return score_seeds(predictions[None], seed_axis, whole_history, score_from)[0]


def score_seeds(predictions: np.ndarray, held_out: Framed, whole_history: bool = False,
                score_from: int = 0) -> list[dict]:
    """`score` for every seed along a leading axis of `predictions` and `held_out`, counted
    as one array."""
    rows = held_out.X.shape[:-1]  # (seeds, sequences, samples)
    valid = held_out.y >= 0
    correct = (predictions == held_out.y) & valid
    counted, right = (a.reshape(rows + (-1,)).sum(axis=-1) for a in (valid, correct))
    complete = ~np.broadcast_to(_incomplete(held_out, whole_history, score_from), rows)
    exact = right == counted
    scores = {
        "eval_accuracy": _ratio(right * complete, counted * complete),
        "eval_accuracy_incomplete": _ratio(right * ~complete, counted * ~complete),
        "eval_sequence_accuracy": (_ratio(exact & complete, complete)
                                   if held_out.y.ndim > len(rows) else np.full(rows[0], np.nan)),
    }
    return [{name: float(values[i]) for name, values in scores.items()} for i in range(rows[0])]


def _ratio(right: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """Per seed (leading axis): the sum of `right` over the sum of `counted`, NaN where 0."""
    right, counted = (a.reshape(len(a), -1).sum(axis=1) for a in (right, counted))
    return np.where(counted > 0, right / np.maximum(counted, 1), np.nan)


def epochs_to_reach(accuracy: np.ndarray, threshold: float = LEARNED, span: int = TRAILING) -> float:
    """First epoch (1-based) whose trailing mean training accuracy over `span` epochs reaches
    `threshold`; NaN if the run never does. Averaging over a span keeps one lucky sequence from
    counting as learned."""
    accuracy = np.asarray(accuracy, dtype=float)
    if len(accuracy) < span:
        return float("nan")
    trailing = np.convolve(accuracy, np.ones(span) / span, mode="valid")
    reached = np.flatnonzero(trailing >= threshold - 1e-9)
    return float(reached[0] + span) if reached.size else float("nan")


def pace(accuracy: np.ndarray, train_seconds: float, compile_seconds: float, epochs: int) -> dict:
    """What a run's clock and training curve say beyond its scores: milliseconds per epoch of
    training (compilation left out) and the epoch its training accuracy counts as learned."""
    return {"ms_per_epoch": 1000 * (train_seconds - compile_seconds) / epochs,
            "epochs_to_99": epochs_to_reach(accuracy, LEARNED)}
