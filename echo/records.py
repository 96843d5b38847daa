"""What a run produces: plain records, free of Keras, to pass between processes."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Curves:
    """Per-epoch training loss (mean over batches) and accuracy (over samples), and the
    seconds spent compiling before the first epoch (0 when the program was reused)."""

    loss: np.ndarray
    accuracy: np.ndarray
    compile_seconds: float = 0.0


@dataclass(frozen=True)
class Phases:
    """Seconds a run spent on each phase (a seed's share where seeds ran together): set-up
    (initial weights, training sequences drawn and framed), compiling, training, and scoring
    (held-out sequences drawn, predicted and counted)."""

    setup: float = 0.0
    compile: float = 0.0
    train: float = 0.0
    score: float = 0.0


@dataclass(frozen=True)
class Run:
    """What one (setup, seed) produced; `scores` as from `echo.scoring.score`; `train_seconds`
    includes compiling."""

    scores: dict[str, float]
    final_loss: float
    train_seconds: float
    curves: Curves
    phases: Phases = Phases()
    device: str = ""  # what it trained on, as the backend names it ('cpu', 'NVIDIA H200', ...)

    @property
    def eval_accuracy(self) -> float:
        return self.scores["eval_accuracy"]
