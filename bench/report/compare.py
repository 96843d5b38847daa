"""`bench compare A B`: two results directories, run against run.

Runs are paired by experiment, variant, seed and settings hash (the same seed of the same
settings), so the comparison is paired like every other one here: before and after a code
change, CPU against GPU, one engine against the other. Per variant: the mean difference
(B - A) in held-out accuracy and in final loss with 95% t intervals, the largest difference
on one seed, the runs found on one side only, and what the paired held-out accuracies decide
(B against A, in the words of every contrast's decision, against the suite's δ and
Holm-corrected across the variants compared).
"""

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from bench.report.wording import decision_label, estimate_text
from bench.stats.estimates import decide_differences, mean_interval
from bench.store.directory import ExperimentStore, StoreError, stored_experiments
from echo.experiment import DELTA, Contrast

PAIRED = ["variant", "seed", "settings_hash"]


@dataclass(frozen=True)
class VariantComparison:
    """One variant's runs in A and B, paired."""

    experiment: str
    variant: str
    pairs: int
    accuracy: object  # Estimate of the mean per-seed difference B - A
    loss: object
    largest: float  # the largest |B - A| in held-out accuracy on one seed (0 without pairs)
    only_a: int
    only_b: int
    differences: np.ndarray = field(repr=False)  # per paired seed, B - A in held-out accuracy
    decision: object = None  # what they decide (a Decision), once `decided`


def compare_directories(a: Path, b: Path, names: list[str] | None = None) -> list[VariantComparison]:
    """Every variant of the experiments in both directories (or `names`), paired run by run."""
    found = [set(stored_experiments(d)) for d in (a, b)]
    common = sorted(found[0] & found[1])
    if names:
        missing = [n for n in names if n not in common]
        if missing:
            where = " and ".join(str(d) for d, f in zip((a, b), found) if missing[0] not in f)
            raise StoreError(f"no results for {missing[0]!r} in {where}")
        common = list(dict.fromkeys(names))
    if not common:
        raise StoreError(f"{a} and {b} hold no experiment in common")
    compared = []
    for name in common:
        runs_a, runs_b = (ExperimentStore(d / name).load().runs for d in (a, b))
        compared += compare_runs(name, runs_a, runs_b)
    return decided(compared)


def compare_runs(experiment: str, a: pd.DataFrame, b: pd.DataFrame) -> list[VariantComparison]:
    """One experiment's runs in A and B compared variant by variant (in A's order, then B's)."""
    both = a.merge(b, on=PAIRED, how="outer", suffixes=("_a", "_b"), indicator=True)
    compared = []
    for variant in dict.fromkeys([*a["variant"], *b["variant"]]):
        rows = both[both["variant"] == variant]
        paired = rows[rows["_merge"] == "both"]
        accuracy = (paired["eval_accuracy_b"] - paired["eval_accuracy_a"]).to_numpy(float)
        loss = (paired["final_loss_b"] - paired["final_loss_a"]).to_numpy(float)
        finite = np.abs(accuracy[np.isfinite(accuracy)])
        compared.append(VariantComparison(
            experiment, variant, len(paired), mean_interval(accuracy), mean_interval(loss),
            float(finite.max()) if finite.size else 0.0,
            int((rows["_merge"] == "left_only").sum()), int((rows["_merge"] == "right_only").sum()),
            accuracy))
    return compared


def decided(compared: list[VariantComparison], delta: float = DELTA) -> list[VariantComparison]:
    """Each comparison with its decision, B against A on the paired seeds, as one family."""
    with_pairs = [i for i, c in enumerate(compared) if c.pairs]
    decisions = decide_differences([compared[i].differences for i in with_pairs],
                                   [Contrast("B", "A", delta)] * len(with_pairs))
    found = dict(zip(with_pairs, decisions))
    return [replace(c, decision=found.get(i)) for i, c in enumerate(compared)]


def table(compared: list[VariantComparison]) -> list[str]:
    """The comparison as a markdown table."""
    lines = ["| experiment | variant | paired runs | held-out accuracy B - A [95%] | "
             f"B against A (δ = {DELTA:g}, Holm) | largest on one seed | "
             "final loss B - A [95%] | only in A | only in B |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c in compared:
        accuracy, loss = (estimate_text(e, "{:+.4f}") for e in (c.accuracy, c.loss))
        decision = decision_label(c.decision) if c.decision is not None else "-"
        lines.append(f"| {c.experiment} | {c.variant} | {c.pairs} | {accuracy} | {decision} | "
                     f"{c.largest:.4f} | {loss} | {c.only_a} | {c.only_b} |")
    return lines
