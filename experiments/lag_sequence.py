"""Extension 5: echo a lagged sequence instead of one value."""

from echo.experiment import Contrast, Experiment
from experiments.echo_lag import EXPERIMENT as ECHO_LAG

TUTORIAL = ECHO_LAG.baseline_setup


EXPERIMENT = Experiment(
    name="lag-sequence",
    question=("Can an LSTM echo a whole lagged sequence: a value at every step of the window "
              "(sequence to sequence), or the window's last values through an encoder-decoder?"),
    claim="The tutorial suggests TimeDistributed output layers for sequence-to-sequence echo.",
    notes=("Sequence to sequence: return_sequences=True and TimeDistributed(Dense); the first "
           "`lag` steps of each window, whose targets the network never saw, are not scored. "
           "eval_accuracy is per value, eval_sequence_accuracy per whole row (exact match)."),
    baseline="seq2seq-lag1",
    contrasts=(
        Contrast("seq2seq-lag2", "seq2seq-lag1"),
        Contrast("seq2seq-lag3", "seq2seq-lag2"),
        Contrast("encoder-decoder-last3", "seq2seq-lag1"),
    ),
    variants={
        **{f"seq2seq-lag{lag}": TUTORIAL.replace(framing="lag_sequence", lag=lag)
           for lag in (1, 2, 3)},
        "encoder-decoder-last3": TUTORIAL.replace(framing="last_values", out_steps=3),
    },
)
