"""Beyond the tutorial: LSTM, GRU and SimpleRNN with the same units where each can learn the
echo (stateless, the window lag + 1), at a short, a middle and a long lag."""

from echo.experiment import Contrast, Experiment
from experiments.capacity import CELLS, windowed

LAGS = (1, 4, 8)
UNITS = 50


EXPERIMENT = Experiment(
    name="cell-type",
    question="Which recurrent cell learns the echo, how fast, and at what cost per epoch?",
    notes=(f"Capacity's setting: a stateless layer of {UNITS} units, the window lag + 1 (the "
           "target is its oldest step), 20 rows per sequence, 2000 epochs, at lags "
           f"{', '.join(map(str, LAGS))}. Stateful at lag 8 in a window of 9 (the lag grid's "
           "setting) no cell learns at any rate (0.24-0.27), so a ranking there would rank "
           "failures; state-window sets stateful against stateless."),
    baseline="lstm-lag1",
    contrasts=tuple(Contrast(f"{cell}-lag{lag}", f"lstm-lag{lag}")
                    for lag in LAGS for cell in ("gru", "simplernn")),
    variants={f"{cell}-lag{lag}": windowed(lag, UNITS).replace(cell=layer)
              for lag in LAGS for cell, layer in CELLS.items()},
)
