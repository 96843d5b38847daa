"""Extension 2: can the network learn from the rows the tutorial drops?"""

from echo.experiment import Contrast, Experiment
from experiments.echo_lag import EXPERIMENT as ECHO_LAG

TUTORIAL = ECHO_LAG.baseline_setup
# Keeping rows t = 1..24 gives 24 samples: batches of 6 keep the 4 updates per sequence.
# eval_accuracy scores the rows the tutorial keeps (t = 5..24); t = 1..4 count as incomplete.
KEPT = TUTORIAL.replace(batch_size=6, score_from=TUTORIAL.window)


EXPERIMENT = Experiment(
    name="masking",
    question=("Can the LSTM learn from the first rows of a sequence, whose window reaches "
              "before its start, if they are kept marked, masked or zeroed instead of dropped?"),
    claim="The tutorial drops these rows and suggests marking them -1 or masking them.",
    notes=("eval_accuracy scores the rows the tutorial keeps, t = 5..24, for every variant; "
           "eval_accuracy_incomplete scores the kept rows t = 1..4 (t = 4 has a full window, "
           "which the tutorial's code drops too). The keeping variants train 24 rows in batches "
           "of 6, the tutorial 20 in batches of 5."),
    contrasts=(
        Contrast("mark", "drop"),
        Contrast("masking-layer", "drop"),
        Contrast("zero", "drop"),
    ),
    variants={
        "drop": TUTORIAL,
        "mark": KEPT.replace(missing="mark"),
        "masking-layer": KEPT.replace(missing="mask"),
        "zero": KEPT.replace(missing="zero"),
    },
)
