"""Beyond the tutorial: is it the lag, or the protocol, that the lag grid measures?

The lag grid (stateful, window 9) and capacity (stateless, window lag + 1) answer "which lags
does an LSTM learn" differently. Two things differ between them: whether the layer carries
state across the samples of a sequence, and where the target sits in the window (inside a
window of 9, or at its oldest step). This experiment crosses the two factors over lags, with
every other setting held: 50 units, 16 rows per sequence in batches of 4, 2000 epochs.
"""

from echo.experiment import Contrast, Experiment
from echo.setup import Setup

LAGS = (1, 2, 3, 5, 8)
WIDE = 9  # the lag grid's window: holds X(t-8)
ROWS = 16  # rows per sequence, as in the lag grid: batches of 4 give echo-lag's 4 updates
STATES = {"stateful": True, "stateless": False}


def _setup(lag: int, window: int, stateful: bool) -> Setup:
    return Setup(framing="lag_with_window", lag=lag, window=window, length=window + ROWS,
                 units=50, batch_size=4, stateful=stateful, epochs=2000)


def _windows(lag: int) -> dict[str, int]:
    """The window's two levels at a lag: fixed at 9, and tight (lag + 1: the target is its
    oldest step); at lag 8 they are the same window, run once."""
    return {"w9": WIDE} if lag + 1 == WIDE else {"w9": WIDE, "tight": lag + 1}



EXPERIMENT = Experiment(
    name="state-window",
    question=("Is what the lag grid measures the lag, or the protocol: does a stateless layer "
              "learn the lags a stateful one does not in the same window of 9, and does it "
              "matter whether the target is the window's oldest step (window lag + 1)?"),
    notes=(f"LSTM(50), {ROWS} rows per sequence in batches of 4, 2000 epochs, Adam 1e-3, at "
           f"lags {', '.join(map(str, LAGS))}; state (stateful, reset per sequence / stateless) "
           "crossed with the window (9, as the lag grid / lag + 1, as capacity). At lag 8 the "
           "two windows coincide."),
    baseline="stateful-w9-lag1",
    contrasts=tuple(
        [Contrast(f"stateless-{w}-lag{lag}", f"stateful-{w}-lag{lag}")
         for lag in LAGS for w in _windows(lag)]
        + [Contrast(f"{state}-tight-lag{lag}", f"{state}-w9-lag{lag}")
           for lag in LAGS if "tight" in _windows(lag) for state in STATES]),
    variants={f"{state}-{w}-lag{lag}": _setup(lag, window, stateful)
              for lag in LAGS for w, window in _windows(lag).items()
              for state, stateful in STATES.items()},
)
