"""Seeds until the question is decided: rounds of new seeds, the same for every variant, and a
stopping rule that keeps the false-positive rate at its nominal level however the looks fall.

A command that may look L times tests every look at alpha / L (Bonferroni across looks, the
simplest alpha-spending rule): the chance that any look calls a true null better or worse is at
most alpha, so stopping as soon as everything is decided is safe. Within a look, Holm corrects
across the experiment's contrasts as always. The price is width: a question decided at the
first look needs a clearer difference than with one fixed look.
"""

from dataclasses import dataclass

import pandas as pd

from bench.stats import ALPHA, decide, judge_claim
from bench.tuning import protocol_contrasts


@dataclass(frozen=True)
class Schedule:
    """Look first at `first` seeds, then after every `round` more, up to `most`."""

    first: int
    round: int
    most: int

    def targets(self) -> list[int]:
        """The seed counts at which the command looks."""
        return [*range(self.first, self.most, self.round), self.most]

    @property
    def looks(self) -> int:
        return len(self.targets())

    @property
    def alpha(self) -> float:
        """The level every look tests at."""
        return ALPHA / self.looks


def open_questions(runs: pd.DataFrame, experiment, alpha: float) -> list[str]:
    """What the experiment still leaves undecided at `alpha`: its contrasts (undecided, or
    better or worse by a size not yet known against δ), and its claim (experiments that declare
    neither, the grids, are decided by their first look)."""
    present = set(runs["variant"])
    still = [f"{d.variant} vs {d.reference}" + (" (its size)" if d.verdict != "undecided" else "")
             for d in decide(runs, protocol_contrasts(experiment, present), alpha=alpha,
                             details=False) if d.open]
    if experiment.claimed_accuracy is not None and experiment.baseline in present:
        values = runs.loc[runs["variant"] == experiment.baseline, "eval_accuracy"]
        claim = judge_claim(values, experiment.claimed_accuracy, experiment.claim_tolerance,
                            alpha=alpha)
        if claim.verdict == "undecided":
            still.append("the tutorial's claim")
    return still


def record(schedule: Schedule, seeds: int, still: list[str], command: str) -> dict:
    """meta.json's account of how many seeds an experiment got and why it stopped."""
    return {"rule": "until decided", "command": command, "first": schedule.first,
            "round": schedule.round, "max_seeds": schedule.most, "looks": schedule.looks,
            "alpha_per_look": schedule.alpha, "seeds": seeds,
            "stopped": "decided" if not still else "max seeds reached", "undecided": still}

