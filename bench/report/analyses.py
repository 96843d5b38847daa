"""The trend analyses experiments declare (echo.experiment's LagGrid, UnitsNeeded, DelayLine,
LagProfile), each one class: a report section, figures, a one-line answer, and the section as
part of another page.

An experiment names its analysis as data (experiments never import bench); `analysis_of`
finds the class that computes and renders it here, as bsuite keeps an analysis beside each sweep.
"""

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from bench.report import figures
from bench.report.wording import estimate_text
from bench.stats.estimates import accuracy_interval, seeds_to_show, units_needed
from bench.store.schema import row_settings
from echo.experiment import DelayLine, LagGrid, LagProfile, UnitsNeeded
from echo.scoring import LEARNED  # a cell counts as learned when its whole 95% interval is above it
from echo.setup import Setup
from echo.spec import cell_label


class Analysis:
    """How a report handles one kind of trend analysis, for the declaration `declared` (its
    settings): the page's section, its figures, the experiment's answer in a line, and the
    section as part of another page. Learning curves get a panel per
    `facet[0]` and a line per `facet[1]` where it names two columns."""

    facet: tuple[str, str] | None = None

    def __init__(self, declared):
        self.declared = declared

    def section(self, runs: pd.DataFrame) -> list[str]:
        raise NotImplementedError

    def draw(self, runs: pd.DataFrame, folder: Path, name: str) -> list[str]:
        raise NotImplementedError

    def answer(self, runs: pd.DataFrame) -> str:
        raise NotImplementedError

    def headline(self, runs: pd.DataFrame) -> str:
        """The answer's gist in a few words, for the index."""
        raise NotImplementedError

    def across_rates(self, rates: list[tuple[float, pd.DataFrame]]) -> list[str]:
        """The answer at each learning rate side by side (`rates`: each rate and its runs), or
        nothing where the kind has no such table."""
        return []

    def subsection(self, runs: pd.DataFrame) -> list[str]:
        """The section as part of another page's (a scorecard's for one architecture): its
        heading a level down."""
        return ["#" + line if line.startswith("## ") else line for line in self.section(runs)]


def analysis_of(declared) -> Analysis | None:
    """The analysis an experiment declares (its `analysis`), or None where it declares none."""
    made = KINDS.get(type(declared))
    return made(declared) if made else None


def protocol(runs: pd.DataFrame) -> str:
    """The settings a grid's answer holds at, as its runs share them: the layer and whether it
    carries state, the window (a size, lag + 1, or the whole history), the epochs and Adam's
    learning rate."""
    def shared(column: str, names) -> str | None:
        values = set(runs[column])
        return names(values.pop()) if len(values) == 1 else None

    state = shared("stateful", lambda v: "stateful" if v else "stateless") or "stateful or stateless"
    cell = _layer(runs)
    if (runs["framing"] == "history").all():
        window = "the whole history"
    elif (runs["framing"] == "delay_line").all():
        window = shared("window", lambda v: f"pieces of {v} fed whole") or "pieces of several sizes"
    elif (runs["window"] == runs["lag"] + 1).all():
        window = "window lag + 1 (the target its oldest step)"
    else:
        window = shared("window", lambda v: f"window {v}") or "windows of several sizes"
    epochs = shared("epochs", lambda v: f"{v} epochs") or "several epoch budgets"
    rate = shared("learning_rate", lambda v: f"Adam {v:g}") or "several learning rates"
    return f"{state} {cell}, {window}, {epochs}, {rate}"


class LagGridAnalysis(Analysis):
    """LagGrid: held-out accuracy over a grid of lags and units; the lags learned per size."""

    facet = ("lag", "units")

    def section(self, runs):
        lines = ["## Skill against lag, per size", "",
                 f"Mean held-out accuracy with its 95% t interval; **bold** where the whole "
                 f"interval is above {LEARNED:.0%} (learned).", "",
                 "| lag | " + " | ".join(f"{u} units" for u in _sizes(runs)) + " |",
                 "|---|" + "---|" * len(_sizes(runs))]
        for lag, group in runs.groupby("lag"):
            cells = [_cell(group.loc[group["units"] == units, "eval_accuracy"])
                     for units in _sizes(runs)]
            lines.append(f"| {lag} | " + " | ".join(cells) + " |")
        return [*lines, "", *_out_of_order(runs)]

    def answer(self, runs):
        parts = []
        for units in reversed(_sizes(runs)):
            group = runs[runs["units"] == units]
            parts.append(f"{units} units: {_lags(_learned_lags(group))}")
        largest = runs[runs["units"] == max(_sizes(runs))]
        by_lag = largest.groupby("lag")["eval_accuracy"]
        means = ", ".join(f"lag {lag} {accuracy_interval(v).value:.2f}" for lag, v in by_lag)
        return (f"at {protocol(runs)}: lags learned (mean's 95% interval above {LEARNED:.0%}): "
                + "; ".join(parts)
                + f". Mean held-out accuracy at {max(_sizes(runs))} units, by lag: {means}")

    def headline(self, runs):
        largest = max(_sizes(runs))
        return (f"{_layer(runs)} of {largest} units learns "
                f"{_lags(_learned_lags(runs[runs['units'] == largest]))} of lags "
                f"{min(runs['lag'])}-{max(runs['lag'])} at {protocol(runs)}")

    def draw(self, runs, folder, name):
        figures.lag_heatmap(runs, folder / "heatmap.png", _layer(runs))
        return [f"![mean held-out accuracy by lag and units]({name}/heatmap.png)", ""]


class UnitsNeededAnalysis(Analysis):
    """UnitsNeeded: per cell and lag, the fewest units with which enough seeds learn it, with a
    bootstrap interval, the exact interval of the share of seeds that learned there, and the
    trainable parameters of the model built at that size."""

    facet = ("lag", "units")

    def section(self, runs):
        enough = self.declared
        largest = int(runs["units"].max())
        lines = ["## Units needed", "",
                 f"The fewest units with which these seeds show that at least {enough.share:.0%} "
                 f"of seeds reach {enough.learned:.0%} held-out accuracy: the share's exact "
                 f"(Clopper-Pearson) one-sided 95% lower bound reaches {enough.share:.0%}, which "
                 f"takes at least {seeds_to_show(enough.share)} seeds, all learning. 95% interval "
                 f"from resampling seeds (together across sizes); > {largest} means no size tried "
                 "was shown enough, and then the size where most seeds learned is given. "
                 "Parameters: the trainable weights of the model built at that size (recurrent "
                 "layer and softmax head).", "",
                 "| cell | lag | units needed (95% CI) | parameters there | seeds that learned "
                 "there | share shown (lower bound) |", "|---|---|---|---|---|---|"]
        for row in self._table(runs).itertuples():
            lines.append(f"| {row.cell} | {row.lag} | {_needed(row, largest)} | "
                         f"{_learned_at(row)} | "
                         f">= {row.shown:.2f} |")
        return lines + ["", *_larger_worse(runs, "lag")]

    def answer(self, runs):
        enough = self.declared
        largest = int(runs["units"].max())
        table = self._table(runs)
        by_cell = ["; ".join(("" if table["cell"].nunique() == 1 else f"{cell}: ") + ", ".join(
            f"lag {r.lag}: {_units(r.units_needed, largest)} "
            f"[{_units(r.low, largest)}, {_units(r.high, largest)}] "
            f"({_learned_at(r)}, >= {r.shown:.2f})"
            for r in group.itertuples()) for cell, group in table.groupby("cell", sort=False))]
        return (f"at {protocol(runs)}: units with which these seeds show that {enough.share:.0%} "
                f"of seeds reach {enough.learned:.0%} (seeds that learned there; the share's exact "
                f"one-sided 95% lower bound, which needs {seeds_to_show(enough.share)} of "
                f"{seeds_to_show(enough.share)} seeds to reach {enough.share:.0%}): "
                + "; ".join(by_cell))

    def headline(self, runs):
        largest = int(runs["units"].max())
        table = self._table(runs)
        lags = f"{table['lag'].min()}-{table['lag'].max()}"
        return (f"units needed at lags {lags}: " + "; ".join(
            f"{cell} " + ", ".join(_units(u, largest) for u in group["units_needed"])
            for cell, group in table.groupby("cell", sort=False)) + f" (at {protocol(runs)})")

    def across_rates(self, rates):
        if len(rates) < 2:
            return []
        tables = {rate: self._table(at).set_index(["cell", "lag"]) for rate, at in rates}
        largest = {rate: int(at["units"].max()) for rate, at in rates}
        lines = ["## Units needed at each learning rate", "",
                 "Per cell and lag, the units needed (as below) at each of Adam's rates, and the "
                 "fewest over them with the rates that reach it. That fewest is chosen on the "
                 "same seeds it is read from, so it is optimistic; the size enough at every rate "
                 "holds whichever of them a user picks.", "",
                 "| cell | lag | " + " | ".join(f"Adam {rate:g}" for rate in tables)
                 + " | fewest (at) | parameters there | enough at every rate |",
                 "|---|---|" + "---|" * (len(tables) + 3)]
        most = max(largest.values())
        for key in tables[rates[0][0]].index:
            needed = {rate: table.loc[key] for rate, table in tables.items()}
            units = {rate: row.units_needed for rate, row in needed.items()}
            first = min(units, key=units.get)  # the first, in the table's order, that needs fewest
            fewest, there = units[first], needed[first]
            at = [f"{rate:g}" for rate, u in units.items() if u == fewest]
            lines.append(f"| {key[0]} | {key[1]} | "
                         + " | ".join(_units(u, largest[rate]) for rate, u in units.items())
                         + f" | {_units(fewest, most)} ({', '.join(at) if np.isfinite(fewest) else 'none'})"
                         f" | {_units(there.parameters, there.parameters_largest)} | "
                         f"{_units(max(units.values()), most)} |")
        return lines + [""]

    def draw(self, runs, folder, name):
        enough = self.declared
        lines = []
        cells = runs.groupby("cell", sort=False)
        for cell, group in cells:
            file = "heatmap.png" if len(cells) == 1 else f"heatmap-{cell_label(cell)}.png"
            figures.lag_heatmap(group, folder / file, _layer(group), learned=enough.learned)
            lines += [f"![share of seeds reaching {enough.learned:.0%} held-out accuracy, by lag "
                      f"and units, {cell_label(cell)}]({name}/{file})", ""]
        figures.units_needed(self._table(runs), folder / "units-needed.png", _sizes(runs))
        return lines + [f"![units needed against lag, a line per cell, 95% interval]"
                        f"({name}/units-needed.png)", ""]

    def _table(self, runs):
        """units_needed per cell (bootstrapped once however often a report asks), with the
        trainable parameters at each size: at the units needed, at the interval's ends and at
        the largest size."""
        tables = []
        for cell, group in runs.groupby("cell", sort=False):
            rows = tuple(group[list(GRID_COLUMNS)].itertuples(index=False, name=None))
            table = _units_needed(rows, self.declared.learned, self.declared.share)
            counts = {units: _count(group, units) for units in _sizes(group)}

            def at(column, table=table, counts=counts):
                return table[column].map(lambda u: counts.get(u, np.inf))

            tables.append(table.assign(cell=cell_label(cell), parameters=at("units_needed"),
                                       parameters_low=at("low"), parameters_high=at("high"),
                                       parameters_largest=counts[max(counts)]))
        return pd.concat(tables, ignore_index=True)


GRID_COLUMNS = ("lag", "units", "seed", "eval_accuracy")  # what units_needed reads of a run


@functools.cache  # a page asks per cell and rate (capacity: 9) several times; each bootstrapped once
def _units_needed(rows: tuple, learned: float, share: float) -> pd.DataFrame:
    return units_needed(pd.DataFrame(list(rows), columns=list(GRID_COLUMNS)), learned, share)


class LagProfileAnalysis(Analysis):
    """LagProfile: held-out accuracy against the lag, a column per epoch budget."""

    def section(self, runs):
        budgets = sorted(set(runs["epochs"]))
        lines = ["## Skill against lag", "",
                 "Mean held-out accuracy with its 95% t interval, per lag and epoch budget "
                 f"(- where that lag was not run with that budget); **bold** above {LEARNED:.0%}.",
                 "", "| lag | " + " | ".join(f"{e} epochs" for e in budgets) + " |",
                 "|---|" + "---|" * len(budgets)]
        for lag, group in runs.groupby("lag"):
            cells = [_cell(group.loc[group["epochs"] == epochs, "eval_accuracy"])
                     for epochs in budgets]
            lines.append(f"| {lag} | " + " | ".join(cells) + " |")
        return lines + [""]

    def answer(self, runs):
        parts = []
        for epochs, group in runs.groupby("epochs"):
            by_lag = ", ".join(f"lag {lag} {estimate_text(accuracy_interval(v), '{:.2f}')}"
                               for lag, v in group.groupby("lag")["eval_accuracy"])
            parts.append(f"{epochs} epochs: learned {_lags(_learned_lags(group))} ({by_lag})")
        return f"at {protocol(runs)}: mean held-out accuracy (95% CI) by lag; " + "; ".join(parts)

    def headline(self, runs):
        return "; ".join(f"learned {_lags(_learned_lags(group))} in {epochs} epochs"
                         for epochs, group in runs.groupby("epochs")) + f" (at {protocol(runs)})"

    def draw(self, runs, folder, name):
        figures.lag_profile(runs, folder / "lag-profile.png")
        return [f"![held-out accuracy against lag (the lags run), a line per number of epochs, "
                f"95% interval over seeds]({name}/lag-profile.png)", ""]


class DelayLineAnalysis(UnitsNeededAnalysis):
    """DelayLine: per cell and lag, the units needed (as UnitsNeeded), the trainable parameters
    of the model built at that size, and the information the network must hold against them."""

    facet = ("cell", "lag")

    def section(self, runs):
        enough = self.declared
        largest = int(runs["units"].max())
        lines = ["## Units needed to hold k values", "",
                 f"Per cell and lag k, the fewest units with which these seeds show that at least "
                 f"{enough.share:.0%} of seeds reach {enough.learned:.0%} held-out accuracy (the "
                 f"share's exact one-sided 95% lower bound, which takes at least "
                 f"{seeds_to_show(enough.share)} seeds, all learning), with a 95% interval from "
                 f"resampling seeds; > {largest} means no size tried was shown enough within the "
                 "budget. Parameters are the trainable weights of the model built at that size "
                 f"(recurrent layer and softmax head). The network must hold k values of log2("
                 f"{_n_unique(runs)}) = {_bits(runs, 1):.2f} bits each at every step. Collins, "
                 "Sohl-Dickstein and Sussillo (2017) measured about 5 bits per parameter and about "
                 "one real number per unit for common cells trained carefully: the dotted lines of "
                 "the figure (k units; k log2(n) / 5 parameters). Learning curves: a panel per "
                 "cell, a line per k, every size together.", "",
                 "| cell | k | units needed (95% CI) | parameters there | bits held | bits per "
                 "parameter | seeds that learned there |", "|---|---|---|---|---|---|---|"]
        for row in self._table(runs).itertuples():
            per = row.bits / row.parameters if np.isfinite(row.parameters) else np.nan
            lines.append(f"| {row.cell} | {row.lag} | {_needed(row, largest)} | {row.bits:.1f} | "
                         f"{'-' if np.isnan(per) else f'{per:.2g}'} | "
                         f"{_learned_at(row)} |")
        return lines + ["", self._against_theory(runs), "", *_larger_worse(runs, "k")]

    def _against_theory(self, runs) -> str:
        """Where each cell sits against one value per unit and 5 bits per parameter, at the
        most values it was shown to hold."""
        parts = [f"{cell} held k = {row['lag']} with {row['units_needed']:.0f} units "
                 f"({row['units_needed'] / row['lag']:.0f} per value) and "
                 f"{row['bits'] / row['parameters']:.2g} bits per parameter"
                 for cell, row in self._most_held(runs) if row is not None]
        return ("Against the theory: " + "; ".join(parts) + ". So these cells, trained this way, "
                "sit far above both lines: more units per value than the one Collins et al. "
                "measured, and far fewer bits per parameter than their 5 (they tuned every "
                "hyperparameter to measure capacity; here the budget, the rate and the sizes "
                "tried bound what is shown).") if parts else "No cell was shown to hold any k tried."

    def answer(self, runs):
        return (f"at {protocol(runs)}, sizes up to {int(runs['units'].max())} units: "
                + self._held(runs) + f" (units with which {self.declared.share:.0%} of seeds "
                f"are shown to reach {self.declared.learned:.0%})")

    def headline(self, runs):
        return (f"{self._held(runs)}, with up to {int(runs['units'].max())} units (at "
                f"{protocol(runs)})")

    def _held(self, runs) -> str:
        """Per cell, the most values it was shown to hold, and with how many units."""
        largest = int(runs["units"].max())
        return "; ".join(f"{cell} holds up to k = {row['lag']} "
                         f"({_units(row['units_needed'], largest)} units)" if row is not None
                         else f"{cell} holds no k tried" for cell, row in self._most_held(runs))

    def _most_held(self, runs) -> list:
        """Per cell, its table's row at the largest k it was shown to hold (None: none)."""
        found = []
        for cell, group in self._table(runs).groupby("cell", sort=False):
            held = group[np.isfinite(group["units_needed"])]
            found.append((cell, held.loc[held["lag"].idxmax()] if len(held) else None))
        return found

    def draw(self, runs, folder, name):
        table = self._table(runs)
        figures.delay_line(table, folder / "units-needed.png", _sizes(runs),
                           int(table["parameters_largest"].max()))
        return [f"![units and parameters needed to hold k values, per cell, 95% interval; dotted: "
                f"one value per unit and 5 bits per parameter]({name}/units-needed.png)", ""]

    def _table(self, runs):
        """UnitsNeeded's table with the bits each lag's values hold."""
        table = super()._table(runs)
        return table.assign(bits=[_bits(runs, lag) for lag in table["lag"]])


def _n_unique(runs) -> int:
    return int(runs["n_unique"].iloc[0])


def _bits(runs, lag: int) -> float:
    """The information k = `lag` values of the runs' alphabet hold."""
    return lag * float(np.log2(_n_unique(runs)))


def _count(runs, units: int) -> int:
    """The trainable parameters of the model of these runs' settings at `units`."""
    row = runs[runs["units"] == units].iloc[0]
    return trainable_parameters(Setup(**row_settings(row)))


OUT_OF_ORDER = 0.05  # a longer lag scoring this much above shorter ones is flagged


def _out_of_order(runs: pd.DataFrame) -> list[str]:
    """A paragraph where, at the largest size, a lag scores above shorter lags by more than
    OUT_OF_ORDER (skill should fall with the lag), with what is different about that lag where
    the runs say it: its target is the window's oldest step."""
    largest = runs[runs["units"] == max(_sizes(runs))]
    means = largest.groupby("lag")["eval_accuracy"].mean()
    found = []
    for lag, mean in means.items():
        below = [int(shorter) for shorter, other in means.items()
                 if shorter < lag and mean > other + OUT_OF_ORDER]
        if below:
            window = set(largest.loc[largest["lag"] == lag, "window"])
            why = (f": at lag {lag} the target is the window's oldest step (window {lag + 1} = "
                   "lag + 1), a different task from a target inside the window, which the "
                   "state-window experiment sets apart" if window == {lag + 1} else
                   "; the runs do not say why: read it with care")
            found.append(f"**Out of order.** At {max(_sizes(runs))} units lag {lag} scores "
                         f"{mean:.2f}, above lags {', '.join(map(str, below))} "
                         f"({', '.join(f'{means[b]:.2f}' for b in below)}){why}.")
    return [line for paragraph in found for line in (paragraph, "")]  # a paragraph each


LARGER_WORSE = 0.1  # a larger layer scoring this much below a smaller one is flagged


def _larger_worse(runs: pd.DataFrame, lag_word: str) -> list[str]:
    """A paragraph per cell where, at some lag, a larger layer scores below a smaller one by
    more than LARGER_WORSE in mean held-out accuracy (capacity should not hurt): the largest
    such drop per lag. Units needed reads the fewest size shown enough, so it stands; the
    failure is flagged, not explained."""
    means = runs.groupby(["cell", "lag", "units"])["eval_accuracy"].mean()
    found = []
    for cell, by_lag in means.groupby(level="cell", sort=False):
        drops = []
        for lag, sizes in by_lag.groupby(level="lag"):
            sizes = sizes.droplevel(["cell", "lag"])
            worst = max(((small, large) for small in sizes.index for large in sizes.index
                         if large > small), key=lambda p: sizes[p[0]] - sizes[p[1]], default=None)
            if worst and sizes[worst[0]] - sizes[worst[1]] > LARGER_WORSE:
                drops.append(f"{lag_word} = {lag}: {worst[1]} units {sizes[worst[1]]:.2f}, "
                             f"{worst[0]} units {sizes[worst[0]]:.2f}")
        if drops:
            found.append(f"**Larger is worse.** {cell_label(cell)} scores lower with more units "
                         f"(mean held-out accuracy) at {'; '.join(drops)}. The units needed stand "
                         "(the fewest size shown enough); why the larger layer fails is not "
                         "tested here (at one learning rate, a larger layer may need a smaller "
                         "step): read its row with care.")
    return [line for paragraph in found for line in (paragraph, "")]


def _layer(runs) -> str:
    """What the figures call the runs' layer: its cell's name where they share one."""
    cells = set(runs["cell"])
    return cell_label(cells.pop()) if len(cells) == 1 else "recurrent layer"


def _cell(values) -> str:
    """A mean with its interval, **bold** where the whole interval is above LEARNED."""
    estimate = accuracy_interval(values)
    text = estimate_text(estimate, "{:.3f}")
    return f"**{text}**" if _learned(estimate) else text


def _learned(estimate) -> bool:
    """A cell is learned when its mean's whole 95% interval lies above LEARNED."""
    return estimate.low > LEARNED


def _learned_lags(runs: pd.DataFrame) -> list[int]:
    return [lag for lag, values in runs.groupby("lag")["eval_accuracy"]
            if _learned(accuracy_interval(values))]


def _lags(lags: list[int]) -> str:
    return ("lag " + ", ".join(map(str, lags))) if lags else "none"


def _sizes(runs: pd.DataFrame) -> list[int]:
    return sorted(int(u) for u in set(runs["units"]))


def _units(value: float, largest: int) -> str:
    return f"> {largest}" if not np.isfinite(value) else f"{value:.0f}"


def _needed(row, largest: int) -> str:
    """A units-needed row's 'units needed [interval] | parameters there' cells."""
    return (f"{_units(row.units_needed, largest)} [{_units(row.low, largest)}, "
            f"{_units(row.high, largest)}] | {_units(row.parameters, row.parameters_largest)}")


def _learned_at(row) -> str:
    """Where most seeds of a units-needed row learned: 'n of N at u units', or none at any size."""
    if row.seeds_learned == 0:
        return f"none of {row.seeds} at any size"
    return f"{row.seeds_learned} of {row.seeds} at {row.at_units} units"


@functools.cache
def trainable_parameters(setup: Setup) -> int:
    """Trainable weights of the model `setup` builds, counted from the built model (its
    template: the shapes, without running Keras's initializers)."""
    # Late: Keras, loaded only for a page that counts parameters.
    from echo.protocol import template_model

    model = template_model(setup, clear=False)
    return int(sum(np.prod(weight.shape) for weight in model.trainable_weights))


KINDS = {LagGrid: LagGridAnalysis, UnitsNeeded: UnitsNeededAnalysis, DelayLine: DelayLineAnalysis,
         LagProfile: LagProfileAnalysis}
