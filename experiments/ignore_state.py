"""Extension 1: does state carried across samples add skill when each sample has its context?"""

from echo.experiment import Contrast, Experiment
from experiments.echo_lag import EXPERIMENT as ECHO_LAG

TUTORIAL = ECHO_LAG.baseline_setup


EXPERIMENT = Experiment(
    name="ignore-state",
    question=("Each sample already holds its context (a window of 5): does state carried "
              "across samples add skill?"),
    claim="The tutorial resets a stateful layer per sequence and does not test whether it helps.",
    contrasts=(
        Contrast("stateless", "stateful-reset"),
        Contrast("stateful-carry", "stateful-reset"),
    ),
    variants={
        "stateful-reset": TUTORIAL,
        "stateless": TUTORIAL.replace(stateful=False),
        "stateful-carry": TUTORIAL.replace(carry_state=True),
    },
)
