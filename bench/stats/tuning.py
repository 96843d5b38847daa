"""Tuned comparisons: each variant's learning rate chosen on its tuning runs, the same budget for
every variant, and the experiment's contrasts decided again at the chosen rates.

The tuning runs live in their own experiment (`echo.experiment.tuning`: NAME-tuning, on seeds
apart from the evaluation seeds), so choosing a rate never looks at a seed the tuned
comparison is decided on. Tables in, choices out: nothing here reads or writes files.
"""

import re

import numpy as np
import pandas as pd

from echo.setup import Setup

SUFFIX = "[learning_rate="  # how a variant derived at a learning rate is named


def declared_variant(name: str) -> str:
    """The variant a tuning run's variant was derived from: its name without the learning rate
    (`lstm[learning_rate=0.01][cell=m:C]` was derived from `lstm[cell=m:C]`)."""
    return re.sub(rf"{re.escape(SUFFIX)}[^\]]*\]", "", name)


def tuning_curve(runs: pd.DataFrame) -> pd.DataFrame:
    """Per declared variant and learning rate (both sorted): the tuning runs' held-out
    accuracies (a list), their mean and their count."""
    table = runs.assign(variant=runs["variant"].map(declared_variant))
    return (table.groupby(["variant", "learning_rate"])["eval_accuracy"]
            .agg(values=list, mean="mean", seeds="size").reset_index())


def chosen_rates(runs: pd.DataFrame, own: dict[str, float]) -> dict[str, float] | None:
    """Each variant's rate: its best mean over the tuning seeds, a tie going to the rate nearest
    its `own` (on a log scale). None until every variant of `own` has run the same rates on the
    same number of seeds (the same budget for each)."""
    curve = tuning_curve(runs)
    curve = curve[curve["variant"].isin(set(own))]  # other variants' runs may share the folder
    rates = curve.groupby("variant")["learning_rate"].apply(frozenset)
    if (set(curve["variant"]) != set(own) or curve["seeds"].nunique() != 1
            or rates.nunique() != 1):
        return None
    chosen = {}
    for variant in own:
        group = curve[curve["variant"] == variant]
        distance = np.abs(np.log(group["learning_rate"].to_numpy() / own[variant]))
        best = group["mean"].to_numpy() == group["mean"].max()
        chosen[variant] = float(group["learning_rate"].to_numpy()[best][distance[best].argmin()])
    return chosen


def rates_chosen(runs: pd.DataFrame, source) -> dict[str, float] | None:
    """`chosen_rates` for the tuning runs of the experiment `source`, each variant's own rate
    its declared one (the default where `source` is not known here, as for a user's experiment
    reported without its module), the variants in the tuning curve's (sorted) order."""
    if source is not None:
        return chosen_rates(runs, {v: source.variants[v].learning_rate
                                   for v in sorted(source.variants)})
    return chosen_rates(runs, dict.fromkeys(tuning_curve(runs)["variant"], Setup.learning_rate))


def protocol_contrasts(experiment, variants, budgeted: bool) -> tuple:
    """The contrasts among `variants` that the experiment decides at its protocol's rates: all
    of `contrasts_among` but, where it declares a tuning budget (`budgeted`), those between
    variants derived at a learning rate, which are its tuned comparison's (decided there, as one
    family)."""
    found = experiment.contrasts_among(variants)
    if not budgeted:
        return found
    return tuple(c for c in found if SUFFIX not in c.variant and SUFFIX not in c.reference)


def protocol_runs(runs: pd.DataFrame, budgeted: bool) -> pd.DataFrame:
    """The runs an experiment's analysis reads at its protocol's rates: all but, where it
    declares a tuning budget (`budgeted`), those of variants derived at a learning rate (its
    tuned comparison's)."""
    if not budgeted:
        return runs
    return runs[~runs["variant"].str.contains(SUFFIX, regex=False)]

