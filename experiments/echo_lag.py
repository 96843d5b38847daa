"""Tutorial part 4: echo the previous value from a window of the last five."""

from echo.experiment import Experiment
from echo.setup import Setup

EXPERIMENT = Experiment(
    name="echo-lag",
    question="Given the last 5 values as time steps, can a stateful LSTM echo X(t-1)?",
    claim="Stateful LSTM(50), window 5, lag 1, batch 5, 2000 epochs: 100% accuracy.",
    claimed_accuracy=1.0,
    variants={
        "stateful-lstm50": Setup(framing="lag_with_window", window=5, lag=1, units=50,
                                 batch_size=5, stateful=True, epochs=2000),
    },
)
