"""Tutorial part 2: echo the current observation."""

from echo.experiment import Experiment
from echo.setup import Setup

EXPERIMENT = Experiment(
    name="echo-current",
    question="Can an LSTM learn to echo the value it sees now, y(t) = X(t)?",
    claim="LSTM(15), one time step, batch 1, 500 epochs: 100% accuracy.",
    claimed_accuracy=1.0,
    variants={
        "lstm15": Setup(framing="current", units=15, batch_size=1, stateful=False, epochs=500),
    },
)
