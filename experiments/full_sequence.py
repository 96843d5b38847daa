"""Extension 3: the entire sequence so far as time steps, instead of a window of 5."""

from echo.experiment import Contrast, Experiment
from experiments.echo_lag import EXPERIMENT as ECHO_LAG

TUTORIAL = ECHO_LAG.baseline_setup
# Rows t = 1..24 of 25 time steps each; batches of 6 keep the 4 updates per sequence.
# eval_accuracy scores rows t = 5..24, as the window of 5 does; t = 1..4 count as incomplete.
HISTORY = {"framing": "history", "batch_size": 6, "score_from": TUTORIAL.window}


EXPERIMENT = Experiment(
    name="full-sequence",
    question=("Does the whole history up to t, pre-padded to the sequence length, work as "
              "context as well as a window of 5, and at what cost per epoch?"),
    claim="The tutorial suggests it may need padding and masking.",
    notes=("Padding is all zeros without a mask, or -1 behind a Masking layer; ms_per_epoch shows "
           "the cost. eval_accuracy scores rows t = 5..24 for every variant (the rows a window of "
           "5 predicts); eval_accuracy_incomplete the padded variants' rows t = 1..4."),
    contrasts=(
        Contrast("padded-masked", "window-5"),
        Contrast("padded-unmasked", "window-5"),
        Contrast("padded-masked", "padded-unmasked"),
    ),
    variants={
        "window-5": TUTORIAL,
        "padded-masked": TUTORIAL.replace(missing="mask", **HISTORY),
        "padded-unmasked": TUTORIAL.replace(missing="zero", **HISTORY),
    },
)
