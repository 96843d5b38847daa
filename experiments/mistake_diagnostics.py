"""Beyond the tutorial: why does the beginner's mistake fail?"""

from echo.experiment import Contrast, Experiment
from experiments.beginners_mistake import EXPERIMENT as MISTAKE

TUTORIAL = MISTAKE.baseline_setup


EXPERIMENT = Experiment(
    name="mistake-diagnostics",
    question=("With batch 6, consecutive samples sit in different rows of the batch, so the state "
              "a sample receives is not its predecessor's. Is that why the beginner's mistake fails?"),
    notes=("batch-6 is the tutorial's; batch-1 carries X(t-1)'s state into X(t) (gradients still "
           "stop at every batch); window-2 puts X(t-1) in the sample itself (24 rows, t = 1..24, "
           "batches of 6)."),
    contrasts=(
        Contrast("batch-1", "batch-6"),
        Contrast("window-2", "batch-6"),
    ),
    variants={
        "batch-6": TUTORIAL,
        "batch-1": TUTORIAL.replace(batch_size=1),
        "window-2": TUTORIAL.replace(framing="lag_with_window", window=2, missing="mark"),
    },
)
