"""Extension 4: how does the lag change skill, training time and the layer size needed?"""

from echo.experiment import RATES, Experiment, LagGrid
from echo.setup import Setup

LAGS = range(1, 9)
UNITS = (5, 10, 25, 50, 100)
WINDOW = 9  # contains X(t-8); 16 pairs per sequence, so batches of 4 give echo-lag's 4 updates


EXPERIMENT = Experiment(
    name="lag",
    question="How does the lag change skill, epochs to learn and the LSTM size needed?",
    claim="The tutorial expects every lag to be learned with the same model structure.",
    notes=(f"Every lag sees the same window of {WINDOW} values, so only the target moves; "
           "batch 4 keeps echo-lag's 4 updates per sequence."),
    baseline="lag1-units50",
    analysis=LagGrid(),
    qualified_by=("state-window",),
    # A grid, so a coarser rate grid: from the protocol's up, where a stateful layer gains.
    rates=RATES[1:],
    variants={
        f"lag{lag}-units{units}": Setup(framing="lag_with_window", window=WINDOW, lag=lag,
                                        units=units, batch_size=4, stateful=True, epochs=2000)
        for lag in LAGS for units in UNITS
    },
)
