"""The registry of experiments: one declarative module each, in the tutorial's order."""

from echo.experiment import Experiment
from experiments import (beginners_mistake, capacity, cell_type, echo_current, echo_lag,
                         full_sequence, ignore_state, lag, lag_sequence, long_lag, masking,
                         mistake_diagnostics)

EXPERIMENTS: dict[str, Experiment] = {
    module.EXPERIMENT.name: module.EXPERIMENT
    for module in (echo_current, beginners_mistake, echo_lag, ignore_state, masking,
                   full_sequence, lag, lag_sequence, cell_type, mistake_diagnostics, capacity,
                   long_lag)
}
