"""Beyond the tutorial: LSTM, GRU and SimpleRNN with the same units on an easy and a hard lag."""

from echo.experiment import Contrast, Experiment
from experiments.echo_lag import EXPERIMENT as ECHO_LAG
from experiments.lag import EXPERIMENT as LAG

EASY = ECHO_LAG.baseline_setup
HARD = LAG.variants["lag8-units50"]


EXPERIMENT = Experiment(
    name="cell-type",
    question="Which recurrent cell learns the echo, how fast, and at what cost per epoch?",
    notes=("echo-lag's setting (window 5, lag 1) and the lag experiment's longest lag "
           "(window 9, lag 8), each with 50 units of every cell."),
    baseline="lstm-lag1",
    qualified_by=("state-window",),
    contrasts=(
        Contrast("gru-lag1", "lstm-lag1"),
        Contrast("simplernn-lag1", "lstm-lag1"),
        Contrast("gru-lag8", "lstm-lag8"),
        Contrast("simplernn-lag8", "lstm-lag8"),
    ),
    variants={
        f"{cell.replace('_', '')}-lag{setup.lag}": setup.replace(cell=cell)
        for setup in (EASY, HARD) for cell in ("lstm", "gru", "simple_rnn")
    },
)
