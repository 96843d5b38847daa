"""Tutorial part 3: echo the previous value with no context in the sample."""

from echo.experiment import Experiment
from echo.setup import Setup

EXPERIMENT = Experiment(
    name="beginners-mistake",
    question="Can a stateful LSTM shown one value at a time echo the previous one, y(t) = X(t-1)?",
    claim="Stateful LSTM(50), one time step, batch 6, 2000 epochs: 0% accuracy (chance is 1%).",
    claimed_accuracy=0.0,
    variants={
        "stateful-lstm50": Setup(framing="lag_without_context", lag=1, units=50, batch_size=6,
                                 stateful=True, epochs=2000),
    },
)
