"""Beyond the tutorial: long lags with the whole history as context."""

from echo.experiment import Experiment, LagProfile
from echo.setup import Setup

LAGS = (1, 2, 5, 10, 15, 20)
LONGER = {lag: 5000 for lag in (2, 5, 10, 20)}  # lags run again with 2.5x the epochs
ROWS = 24  # rows t = lag .. lag+23 of a sequence of lag + 24 values; batches of 6 give 4 updates


def _setup(lag: int, epochs: int) -> Setup:
    """The history up to t, pre-padded and masked; stateless, since each sample holds it all."""
    return Setup(framing="history", missing="mask", lag=lag, length=lag + ROWS, units=50,
                 batch_size=6, stateful=False, epochs=epochs)



EXPERIMENT = Experiment(
    name="long-lag",
    question=("With the whole history as context (padded and masked), up to which lag does "
              "LSTM(50) learn within 2000 epochs, and do more epochs move that limit?"),
    notes=(f"Sequences are lag + {ROWS} long, so every lag trains on {ROWS} rows per sequence "
           "(4 updates, as echo-lag) and the history grows with the lag (lag + 24 time steps at "
           "most). Lags 2, 5, 10 and 20 run again with 5000 epochs."),
    analysis=LagProfile(),
    variants={
        **{f"lag{lag}": _setup(lag, 2000) for lag in LAGS},
        **{f"lag{lag}-epochs{epochs}": _setup(lag, epochs) for lag, epochs in LONGER.items()},
    },
)
