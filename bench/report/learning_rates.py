"""An experiment's learning-rate section: each contrast decided at every rate with its
robustness, the tuned comparison cross-fitted over the evaluation seeds, and the seeds that
collapse at each rate, with their figures."""

from pathlib import Path

import pandas as pd

from bench.report import figures
from bench.report.answers import Decided, own_rate
from bench.report.wording import (
    change_text,
    choices_text,
    decision_label,
    estimate_text,
    robustness_text,
    share_text,
)
from bench.stats.estimates import accuracy_interval
from bench.stats.rates import COLLAPSE, FOLDS, LEARNS, Change, by_rate, change, collapse
from echo.experiment import declared_variant


def rates_section(name: str, runs: pd.DataFrame, meta: dict, decided: Decided, out: Path
                  ) -> list[str]:
    """The section's markdown (its figures drawn under out/NAME/), or nothing where the runs
    hold one rate or the experiment no contrast."""
    if decided.tuned is None:
        return []
    rates = decided.rates
    cells = sum(len(a.rows) for a in decided.across)
    lines = ["## Learning rates", "",
             f"Every variant ran at Adam {', '.join(f'{r:g}' for r in rates)} on the same seeds, "
             "paired across rates as across variants. Each contrast is decided at every rate "
             f"both its variants ran, and the whole table ({cells} cells) is one Holm family at "
             f"alpha {decided.alpha:.3g}: an answer reads across the table, so the table is what "
             f"its false-positive rate covers. A variant *learns* at a rate where its median "
             f"held-out accuracy reaches {LEARNS:g}; a contrast **holds at every rate** where its "
             "decisions agree wherever either variant learns, **depends on the rate** where two "
             "contradict (better at one, worse at another; or beyond δ at one, within it at "
             "another), and is **not yet decided** where none contradict but some are open. Each "
             "cell: the decision and the mean per-seed difference (variant minus reference); "
             "*neither learns* marks a rate left out of the robustness.", "",
             "| contrast | " + " | ".join(f"{r:g}" for r in rates) + " | across the rates |",
             "|---|" + "---|" * (len(rates) + 1)]
    for across in decided.across:
        found = {row.rate: row for row in across.rows}
        shown = []
        for rate in rates:
            row = found.get(rate)
            if row is None:
                shown.append("-")
                continue
            text = f"{decision_label(row.decision)} ({row.decision.difference.value:+.4f})"
            shown.append(text + ("" if row.learns else ", neither learns"))
        lines.append(f"| {across.variant} vs {across.reference} | {' | '.join(shown)} | "
                     f"{robustness_text(across)} |")
    figures.rate_contrasts(decided.across, out / name / "rates.png")
    lines += ["", f"![each contrast's mean per-seed difference against the learning rate with its "
                  f"interval, ±δ shaded, hollow where neither variant learns]({name}/rates.png)", ""]
    return lines + _tuned(runs, meta, decided) + _collapse(name, runs, decided, out)


def tuned_summary(decided: Decided) -> str:
    """The tuned comparison against the protocol's answers in a line: how many are the same,
    which change (both decided) and which are not confirmed."""
    pairs = list(zip(decided.decisions, decided.tuned.decisions))
    kinds = {kind: [f"{b.variant} vs {b.reference} ({decision_label(b)} -> {decision_label(a)})"
                    for b, a in pairs if change(b, a) == kind] for kind in Change}
    text = f"{len(kinds[Change.SAME])} of {len(pairs)} answers the same"
    for kind in (Change.CHANGES, Change.NOT_CONFIRMED):
        if kinds[kind]:
            text += f"; {kind}: {', '.join(kinds[kind])}"
    return text


def _tuned(runs: pd.DataFrame, meta: dict, decided: Decided) -> list[str]:
    fitted, tuned = decided.tuned.fitted, decided.tuned.decisions
    folds = max((len(f.folds) for f in fitted.values()), default=0)
    table = by_rate(runs)
    lines = ["### Tuned by cross-fitting", "",
             f"Each variant's rate chosen by {folds}-fold cross-fitting over the seeds that ran "
             f"every rate (seeds dealt in order to min({FOLDS}, seeds) folds): for each fold, the "
             "rate with the best median held-out accuracy on the other folds' seeds, the "
             "protocol's rate kept unless another beats it by more than δ; the fold's seeds are "
             "scored at that rate. No seed chooses the rate it is scored at, so the tuned "
             "estimate does not flatter. Cross-fitted scores are not independent across seeds (a "
             "fold's rate is chosen on the seeds the others score), so each tuned contrast is "
             "decided by a permutation test of the whole procedure: the two variants swapped on "
             "every set of seeds and fitted again give the null distribution of the mean "
             "difference; its interval is the mean plus or minus that distribution's quantile at "
             f"Holm's level, Holm across the tuned contrasts at alpha {decided.alpha:.3g}.", "",
             "| variant | rates the folds chose | tuned held-out accuracy (95% CI) | at the "
             "protocol's rate |", "|---|---|---|---|"]
    for variant, found in fitted.items():
        chose = choices_text(found.choices)
        key = (variant, own_rate(meta, variant))
        protocol = table[key].dropna() if key in table.columns else pd.Series(dtype=float)
        lines.append(f"| {variant} | {chose or '-'} | "
                     f"{estimate_text(accuracy_interval(found.scores), count=True)} | "
                     f"{estimate_text(accuracy_interval(protocol), count=True)} |")
    lines += ["", "| contrast | at the protocol's rate | tuned (cross-fitted) | the tuned answer |",
              "|---|---|---|---|"]
    for before, after in zip(decided.decisions, tuned):
        lines.append(f"| {after.variant} vs {after.reference} | {decision_label(before)} "
                     f"({estimate_text(before.difference, '{:+.4f}')}) | {decision_label(after)} "
                     f"({estimate_text(after.difference, '{:+.4f}')}) | "
                     f"{change_text(before, after)} |")
    return lines + ["", f"Tuned: {tuned_summary(decided)}.", ""]


def _collapse(name: str, runs: pd.DataFrame, decided: Decided, out: Path) -> list[str]:
    table = by_rate(runs)
    variants = list(decided.tuned.fitted)
    rates = decided.rates
    lines = ["### Collapse", "",
             f"A seed *collapses* at a rate where its held-out accuracy falls more than "
             f"{COLLAPSE:g} below its variant's median at its best rate (the rate with the best "
             "median): the seeds a few tuning seeds would not see. Share of seeds with its exact "
             "(Clopper-Pearson) 95% interval.", "",
             "| variant | best rate (median) | " + " | ".join(f"{r:g}" for r in rates) + " |",
             "|---|---|" + "---|" * len(rates)]
    for variant in variants:
        found = collapse(table[variant], variant)
        lines.append(f"| {variant} | {found.best_rate:g} ({found.best_median:.4f}) | "
                     + " | ".join(share_text(found.shares[r]) if r in found.shares else "-"
                                  for r in rates) + " |")
    declared = runs.assign(variant=runs["variant"].map(declared_variant))
    figures.rate_seeds(declared[declared["variant"].isin(variants)], out / name / "rate_seeds.png",
                       variants)
    return lines + ["", f"![every seed's held-out accuracy against the learning rate, a panel per "
                        f"variant, the median joined]({name}/rate_seeds.png)", ""]

