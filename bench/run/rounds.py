"""Seeds until the question is decided: rounds of new seeds, the same for every variant, and a
stopping rule that keeps the false-positive rate at its nominal level however the looks fall.

A command that may look L times tests every look at alpha / L (Bonferroni across looks, the
simplest alpha-spending rule): the chance that any look calls a true null better or worse is at
most alpha, so stopping as soon as everything is decided is safe. Within a look, Holm corrects
across the experiment's contrasts as always. The price is width: a question decided at the
first look needs a clearer difference than with one fixed look.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.run.plan import planned
from bench.run.session import execute
from bench.stats.estimates import ALPHA, Claim, judge_claim, units_needed
from bench.stats.rates import Robustness, across_rates, declared_contrasts, protocol_runs
from bench.store.provenance import command_line
from echo.experiment import DelayLine, UnitsNeeded
from echo.spec import cell_label


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
    """What the experiment still leaves undecided at `alpha`: its contrasts not yet decided at
    some rate where either variant learns (undecided, or better or worse by a size not yet known
    against δ) and none contradicting; the units needed at a lag where enough seeds learn at
    some size but too few to show the share; and its claim (a grid of neither is decided by its
    first look)."""
    present = set(runs["variant"])
    still = [f"{a.variant} vs {a.reference} (at {', '.join(f'{r.rate:g}' for r in a.undecided)})"
             for a in across_rates(runs, declared_contrasts(experiment, runs), alpha, details=False)
             if a.robustness == Robustness.OPEN]
    if isinstance(experiment.analysis, (UnitsNeeded, DelayLine)):
        declared = experiment.analysis
        for cell, group in protocol_runs(runs).groupby("cell", sort=False):
            table = units_needed(group, declared.learned, declared.share, resamples=1)
            still += [f"units needed at lag {r.lag} ({cell_label(cell)}: {r.seeds_learned} of {r.seeds} "
                      f"learned at {r.at_units}, >= {r.shown:.2f} shown)" for r in table.itertuples()
                      if not np.isfinite(r.units_needed)
                      and r.seeds_learned >= declared.share * r.seeds]
    if experiment.claimed_accuracy is not None and experiment.baseline in present:
        values = runs.loc[runs["variant"] == experiment.baseline, "eval_accuracy"]
        claim = judge_claim(values, experiment.claimed_accuracy, experiment.claim_tolerance,
                            alpha=alpha)
        if claim.verdict == Claim.UNDECIDED:
            still.append("the tutorial's claim")
    return still


def record(schedule: Schedule, seeds: int, still: list[str], command: str) -> dict:
    """meta.json's account of how many seeds an experiment got and why it stopped."""
    return {"rule": "until decided", "command": command, "first": schedule.first,
            "round": schedule.round, "max_seeds": schedule.most, "looks": schedule.looks,
            "alpha_per_look": schedule.alpha, "seeds": seeds,
            "stopped": "decided" if not still else "max seeds reached", "undecided": still}


def until_decided(schedule: Schedule, experiments, declared, stores: dict, options) -> int:
    """Add rounds of seeds, the same for every variant, until each experiment's contrasts and
    claim are decided (every look at alpha / looks) or the seeds reach the most allowed;
    `declared`, the experiments as defined (their contrasts judge each look)."""
    command = command_line(list(options.argv))
    definitions = {e.name: e for e in declared}
    active = list(experiments)
    for look, target in enumerate(schedule.targets(), 1):
        print(f"round {look} of at most {schedule.looks}: seeds 0..{target - 1} of "
              f"{', '.join(e.name for e in active)} (each look at alpha {schedule.alpha:.3g})")
        chosen = {e.name: stores[e.name] for e in active}
        plan = planned(active, chosen, target, options, options.force and look == 1)
        status = execute(plan, chosen, [definitions[e.name] for e in active], options)
        if status:
            return status
        for experiment in list(active):
            if _looked(experiment, definitions[experiment.name], stores[experiment.name],
                       schedule, target, command):
                active.remove(experiment)
        if not active:
            break
    return 0


def _looked(experiment, definition, store, schedule: Schedule, target: int, command: str) -> bool:
    """Look at an experiment's first `target` seeds; where it is decided (or has the most
    seeds allowed) record why it stopped in meta.json and return True."""
    runs = store.load().runs
    runs = runs[runs["seed"] < target]  # this look's seeds only
    still = open_questions(runs, definition, schedule.alpha)
    if still and target < schedule.most:
        print(f"{experiment.name}: undecided after {target} seeds: {', '.join(still)}")
        return False
    seeds = runs["seed"].nunique()
    seeding = record(schedule, seeds, still, command)
    earlier = store.meta().get("seeding")
    # A rerun that reaches the same record leaves the command that made it.
    if not earlier or {**earlier, "command": command} != seeding:
        store.annotate({"seeding": seeding})
    print(f"{experiment.name}: {'undecided' if still else 'decided'} with {seeds} seeds"
          + (f" (the most allowed): {', '.join(still)}" if still else ""))
    return True
