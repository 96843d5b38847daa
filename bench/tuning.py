"""Tuned comparisons: each variant's learning rate chosen on its tuning runs, the same budget for
every variant, and the experiment's contrasts decided again at the chosen rates.

The tuning runs live in their own experiment (`echo.experiment.tuning`: NAME-tuning, on seeds
apart from the evaluation seeds), so choosing a rate never looks at a seed the tuned
comparison is decided on. Arrays in, choices out: nothing here reads or writes files.
"""

import numpy as np
import pandas as pd

from echo.experiment import Experiment, at_rate


def tuning_curve(runs: pd.DataFrame, source: Experiment, rates) -> pd.DataFrame:
    """Per declared variant and rate: the tuning runs' mean held-out accuracy and their count."""
    rows = []
    for variant in source.variants:
        for rate in rates:
            values = runs.loc[runs["variant"] == at_rate(variant, rate), "eval_accuracy"]
            rows.append({"variant": variant, "learning_rate": float(rate),
                         "mean": float(values.mean()) if len(values) else float("nan"),
                         "seeds": len(values)})
    return pd.DataFrame(rows, columns=["variant", "learning_rate", "mean", "seeds"])


def chosen_rates(runs: pd.DataFrame, source: Experiment, rates) -> dict[str, float] | None:
    """Each variant's rate: its best mean over the tuning seeds, a tie going to the rate nearest
    its own (on a log scale). None until every variant has run every rate on the same seeds
    (the same budget for each)."""
    curve = tuning_curve(runs, source, rates)
    if curve["seeds"].nunique() != 1 or curve["seeds"].iloc[0] == 0:
        return None
    chosen = {}
    for variant, group in curve.groupby("variant", sort=False):
        own = source.variants[variant].learning_rate
        distance = np.abs(np.log(group["learning_rate"].to_numpy() / own))
        best = group["mean"].to_numpy() == group["mean"].max()
        chosen[variant] = float(group["learning_rate"].to_numpy()[best][distance[best].argmin()])
    return chosen
