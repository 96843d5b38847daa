"""The trend analyses grid experiments declare (echo.experiment's LagGrid, UnitsNeeded,
LagProfile), each as one piece of behaviour: a report section, figures and a one-line answer.

An experiment names its analysis as data (experiments never import bench); `kind(analysis)`
finds what computes and renders it here, as bsuite keeps an analysis beside each sweep.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from bench import figures
from bench.stats import accuracy_interval, share_interval, units_needed
from bench.tuning import rates_chosen, tuning_curve
from bench.wording import estimate_text
from echo.experiment import LagGrid, LagProfile, TuningCurve, UnitsNeeded

LEARNED = 0.99  # a cell counts as learned when its mean's whole 95% interval is above this
CELL_NAMES = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}


@dataclass(frozen=True)
class Kind:
    """How a report handles one analysis kind."""

    section: Callable[[pd.DataFrame, object], list[str]]  # markdown lines for the page
    draw: Callable[[pd.DataFrame, Path, str, object], list[str]]  # figures, their markdown
    answer: Callable[[pd.DataFrame, object], str]  # the experiment's answer in a line
    facet: tuple[str, str] | None = None  # learning curves: a panel per column, a line per hue


def kind(analysis) -> Kind | None:
    return KINDS.get(type(analysis))


def protocol(runs: pd.DataFrame) -> str:
    """The settings a grid's answer holds at, as its runs share them: the layer and whether it
    carries state, the window (a size, lag + 1, or the whole history), the epochs and Adam's
    learning rate."""
    def shared(column: str, names) -> str | None:
        values = set(runs[column])
        return names(values.pop()) if len(values) == 1 else None

    state = shared("stateful", lambda v: "stateful" if v else "stateless") or "stateful or stateless"
    cell = shared("cell", lambda v: CELL_NAMES.get(v, v.rpartition(":")[2])) or "recurrent layer"
    if (runs["framing"] == "history").all():
        window = "the whole history"
    elif (runs["window"] == runs["lag"] + 1).all():
        window = "window lag + 1 (the target its oldest step)"
    else:
        window = shared("window", lambda v: f"window {v}") or "windows of several sizes"
    epochs = shared("epochs", lambda v: f"{v} epochs") or "several epoch budgets"
    rate = shared("learning_rate", lambda v: f"Adam {v:g}") or "several learning rates"
    return f"{state} {cell}, {window}, {epochs}, {rate}"


def _lag_grid_section(runs: pd.DataFrame, _analysis) -> list[str]:
    lines = ["## Skill against lag, per size", "",
             f"Mean held-out accuracy with its 95% t interval; **bold** where the whole interval "
             f"is above {LEARNED:.0%} (learned).", "",
             "| lag | " + " | ".join(f"{u} units" for u in _sizes(runs)) + " |",
             "|---|" + "---|" * len(_sizes(runs))]
    for lag, group in runs.groupby("lag"):
        cells = []
        for units in _sizes(runs):
            estimate = accuracy_interval(group.loc[group["units"] == units, "eval_accuracy"])
            text = estimate_text(estimate, "{:.3f}")
            cells.append(f"**{text}**" if _learned(estimate) else text)
        lines.append(f"| {lag} | " + " | ".join(cells) + " |")
    return lines + [""]


def _lag_grid_answer(runs: pd.DataFrame, _analysis) -> str:
    parts = []
    for units in reversed(_sizes(runs)):
        group = runs[runs["units"] == units]
        learned = [lag for lag, values in group.groupby("lag")["eval_accuracy"]
                   if _learned(accuracy_interval(values))]
        parts.append(f"{units} units: {_lags(learned)}")
    largest = runs[runs["units"] == max(_sizes(runs))]
    by_lag = largest.groupby("lag")["eval_accuracy"]
    means = ", ".join(f"lag {lag} {accuracy_interval(v).value:.2f}" for lag, v in by_lag)
    return (f"at {protocol(runs)}: lags learned (mean's 95% interval above {LEARNED:.0%}): "
            + "; ".join(parts)
            + f". Mean held-out accuracy at {max(_sizes(runs))} units, by lag: {means}")


def _learned(estimate) -> bool:
    """A cell is learned when its mean's whole 95% interval lies above LEARNED."""
    return estimate.low > LEARNED


def _lags(lags: list[int]) -> str:
    return ("lag " + ", ".join(map(str, lags))) if lags else "none"


def _sizes(runs: pd.DataFrame) -> list[int]:
    return sorted(int(u) for u in set(runs["units"]))


def _lag_grid_draw(runs: pd.DataFrame, folder: Path, name: str, _analysis) -> list[str]:
    figures.lag_heatmap(runs, folder / "heatmap.png")
    return [f"![mean held-out accuracy by lag and units]({name}/heatmap.png)", ""]


def _units_needed_section(runs: pd.DataFrame, enough: UnitsNeeded) -> list[str]:
    """Units needed per lag, with the bootstrap interval and the seeds that learned there."""
    table = units_needed(runs, enough.learned, enough.share)
    largest = int(runs["units"].max())
    lines = ["## Units needed", "",
             f"The fewest units with which at least {enough.share:.0%} of the seeds reach "
             f"{enough.learned:.0%} held-out accuracy; 95% interval from resampling seeds "
             f"(together across sizes); > {largest} means no size tried was enough. The share "
             "of seeds that learned at that size has its exact (Clopper-Pearson) 95% interval: "
             f"where its lower bound is under {enough.share:.0%}, these seeds cannot yet show "
             "that the size is enough for the population of seeds.", "",
             "| lag | units needed (95% CI) | seeds that learned at that size (95% CI) |",
             "|---|---|---|"]
    for row in table.itertuples():
        share = share_interval(row.seeds_learned, row.seeds)
        lines.append(f"| {row.lag} | {_units(row.units_needed, largest)} "
                     f"[{_units(row.low, largest)}, {_units(row.high, largest)}] | "
                     f"{row.seeds_learned} of {row.seeds} ({estimate_text(share, '{:.2f}')}) |")
    return lines + [""]


def _units_needed_answer(runs: pd.DataFrame, enough: UnitsNeeded) -> str:
    largest = int(runs["units"].max())
    table = units_needed(runs, enough.learned, enough.share)
    return (f"at {protocol(runs)}: units with which {enough.share:.0%} of these seeds reach "
            f"{enough.learned:.0%} "
            "(seeds that learned there; the share's exact 95% lower bound): "
            + ", ".join(f"lag {r.lag}: {_units(r.units_needed, largest)} "
                        f"[{_units(r.low, largest)}, {_units(r.high, largest)}] ({r.seeds_learned} "
                        f"of {r.seeds}, >= {share_interval(r.seeds_learned, r.seeds).low:.2f})"
                        for r in table.itertuples()))


def _units_needed_draw(runs: pd.DataFrame, folder: Path, name: str, enough: UnitsNeeded) -> list[str]:
    figures.lag_heatmap(runs, folder / "heatmap.png", learned=enough.learned)
    figures.units_needed(units_needed(runs, enough.learned, enough.share),
                         folder / "units-needed.png", _sizes(runs))
    return [f"![share of seeds reaching {enough.learned:.0%} held-out accuracy, by lag and "
            f"units]({name}/heatmap.png)", "",
            f"![units needed against lag, 95% interval]({name}/units-needed.png)", ""]


def _units(value: float, largest: int) -> str:
    return f"> {largest}" if not np.isfinite(value) else f"{value:.0f}"


def _lag_profile_section(runs: pd.DataFrame, _analysis) -> list[str]:
    budgets = sorted(set(runs["epochs"]))
    lines = ["## Skill against lag", "",
             "Mean held-out accuracy with its 95% t interval, per lag and epoch budget "
             f"(- where that lag was not run with that budget); **bold** above {LEARNED:.0%}.", "",
             "| lag | " + " | ".join(f"{e} epochs" for e in budgets) + " |",
             "|---|" + "---|" * len(budgets)]
    for lag, group in runs.groupby("lag"):
        cells = []
        for epochs in budgets:
            estimate = accuracy_interval(group.loc[group["epochs"] == epochs, "eval_accuracy"])
            text = estimate_text(estimate, "{:.3f}")
            cells.append(f"**{text}**" if _learned(estimate) else text)
        lines.append(f"| {lag} | " + " | ".join(cells) + " |")
    return lines + [""]


def _lag_profile_answer(runs: pd.DataFrame, _analysis) -> str:
    parts = []
    for epochs, group in runs.groupby("epochs"):
        learned = [lag for lag, v in group.groupby("lag")["eval_accuracy"]
                   if _learned(accuracy_interval(v))]
        by_lag = ", ".join(f"lag {lag} {estimate_text(accuracy_interval(v), '{:.2f}')}"
                           for lag, v in group.groupby("lag")["eval_accuracy"])
        parts.append(f"{epochs} epochs: learned {_lags(learned)} ({by_lag})")
    return f"at {protocol(runs)}: mean held-out accuracy (95% CI) by lag; " + "; ".join(parts)


def _lag_profile_draw(runs: pd.DataFrame, folder: Path, name: str, _analysis) -> list[str]:
    figures.lag_profile(runs, folder / "lag-profile.png")
    return [f"![held-out accuracy against lag (the lags run), a line per number of epochs, 95% "
            f"interval over seeds]({name}/lag-profile.png)", ""]


def _tuning_section(runs: pd.DataFrame, analysis: TuningCurve) -> list[str]:
    """Mean held-out accuracy per variant and rate, with its interval; the chosen rate bold."""
    curve, chosen = tuning_curve(runs), _chosen(runs, analysis)
    rates = sorted(set(curve["learning_rate"]))
    lines = ["## Tuning curve", "",
             f"Mean held-out accuracy over the tuning seeds with its 95% t interval, per variant "
             f"of {analysis.source} and Adam learning rate; **bold**, the rate each variant "
             "chooses (its best mean; a tie goes to the rate nearest its own). The evaluation "
             f"seeds of {analysis.source} are never among these.", "",
             "| variant | " + " | ".join(f"{r:g}" for r in rates) + " |",
             "|---|" + "---|" * len(rates)]
    for variant, group in curve.groupby("variant", sort=False):
        cells = []
        for rate in rates:
            values = group.loc[group["learning_rate"] == rate, "values"]
            text = estimate_text(accuracy_interval(values.iloc[0]), "{:.4f}") if len(values) else "-"
            cells.append(f"**{text}**" if chosen and chosen.get(variant) == rate else text)
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return lines + [""]


def _tuning_answer(runs: pd.DataFrame, analysis: TuningCurve) -> str:
    chosen = _chosen(runs, analysis)
    if chosen is None:
        return "the tuning budget is not complete (every variant at every rate, the same seeds)"
    curve = tuning_curve(runs).set_index(["variant", "learning_rate"])["mean"]
    seeds = runs["seed"].nunique()
    return (f"learning rates chosen on {seeds} tuning seeds (mean held-out accuracy there): "
            + ", ".join(f"{v} {r:g} ({curve[v, r]:.4f})" for v, r in chosen.items()))


def _tuning_draw(runs: pd.DataFrame, folder: Path, name: str, _analysis) -> list[str]:
    figures.tuning_curve(tuning_curve(runs), folder / "tuning.png")
    return [f"![held-out accuracy against Adam's learning rate, a line per variant, 95% "
            f"interval over the tuning seeds]({name}/tuning.png)", ""]


def _chosen(runs: pd.DataFrame, analysis: TuningCurve) -> dict | None:
    """The rates the tuning runs of `analysis.source` choose."""
    from experiments import EXPERIMENTS

    return rates_chosen(runs, EXPERIMENTS.get(analysis.source))


KINDS = {
    LagGrid: Kind(_lag_grid_section, _lag_grid_draw, _lag_grid_answer, facet=("lag", "units")),
    UnitsNeeded: Kind(_units_needed_section, _units_needed_draw, _units_needed_answer,
                      facet=("lag", "units")),
    LagProfile: Kind(_lag_profile_section, _lag_profile_draw, _lag_profile_answer),
    TuningCurve: Kind(_tuning_section, _tuning_draw, _tuning_answer),
}
