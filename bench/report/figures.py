"""Seaborn figures for a report, drawn from the results tables alone. Each returns its
matplotlib figure (or seaborn FacetGrid), saved first where a path is given."""

from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.lines  # noqa: E402
import matplotlib.patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from bench.report.wording import decision_label  # noqa: E402
from bench.stats.estimates import Verdict, mean_interval  # noqa: E402
from echo.scoring import TRAILING  # noqa: E402
from echo.spec import cell_label  # noqa: E402

POINTS = 200  # epochs drawn per curve: enough for the shape, cheap to bootstrap


def learning_curves(curves: pd.DataFrame, path: Path | None, order: list[str], span: int = TRAILING,
                    facet: tuple[str, str] | None = None) -> sns.FacetGrid:
    """Training accuracy by epoch (trailing mean over `span` epochs, as for epochs to 99%),
    mean over seeds with a 95% bootstrap band, per variant; with `facet` (column, hue), one
    panel per value of the column (and a row per cell where `curves` hold several) and a line
    per value of the hue instead."""
    curves = curves.sort_values(["variant", "seed", "epoch"])
    every = int(curves["epoch"].diff().where(lambda d: d > 0).min()) if len(curves) > 1 else 1
    window = max(1, span // max(every, 1))
    smooth = curves.groupby(["variant", "seed"])["accuracy"].transform(
        lambda a: a.rolling(window, min_periods=1).mean())
    curves = curves.assign(accuracy=smooth)
    step = max(1, int(curves["epoch"].max()) // POINTS)
    shown = curves[(curves["epoch"] % step == 0) | (curves["epoch"] == 1)]
    lines = {"hue": "variant", "hue_order": order, "height": 4, "aspect": 2.2}
    if facet is not None:
        column, hue = facet
        shown = shown.assign(cell=shown["cell"].map(cell_label))
        levels = sorted(set(shown[hue]))
        lines = {"hue": hue, "col": column, "col_wrap": 4, "height": 2.6, "aspect": 1.3,
                 "palette": dict(zip(levels, sns.color_palette("colorblind", len(levels))))}
        if "cell" not in facet and shown["cell"].nunique() > 1:  # never a line over two cells
            lines = {**lines, "row": "cell", "col_wrap": None}
    grid = sns.relplot(data=shown, x="epoch", y="accuracy", kind="line", errorbar=("ci", 95),
                       n_boot=200, seed=0, **lines)
    grid.set_axis_labels("epoch (one fresh sequence each)",
                         f"train accuracy ({span}-epoch mean)")
    _save(grid.figure, path)
    return grid


def seed_scores(runs: pd.DataFrame, path: Path | None, order: list[str], column="eval_accuracy",
                chance: float | None = None) -> plt.Figure:
    """The held-out score of every seed, per variant, with the mean marked, the axis fitted to
    the scores (`score_limits`); with few variants a seed's scores are joined across them (the
    design is paired), and chance is dashed where it lies within the axis."""
    width = max(5, 0.45 * len(order) + 2)
    figure, axis = plt.subplots(figsize=(width, 4))
    if 1 < len(order) <= PAIRED_LINES:
        table = runs.pivot_table(index="seed", columns="variant", values=column)[order]
        axis.plot(range(len(order)), table.to_numpy().T, color="grey", alpha=0.3, linewidth=0.8)
    with _seeded_numpy(0):  # seaborn jitters with NumPy's global generator
        sns.stripplot(data=runs, x="variant", y=column, order=order, ax=axis, jitter=0.15,
                      size=4, alpha=0.7, color="tab:blue")
    sns.pointplot(data=runs, x="variant", y=column, order=order, ax=axis, errorbar=None,
                  linestyle="none", marker="_", markersize=20, color="black")
    _score_axis(axis, runs[column], chance)
    axis.set_ylabel("held-out accuracy" if column == "eval_accuracy" else column.replace("_", " "))
    axis.tick_params(axis="x", rotation=90 if len(order) > 6 else 0)
    return _save(figure, path)


def grid_scores(runs: pd.DataFrame, path: Path | None, x: str, chance: float | None = None
                ) -> sns.FacetGrid:
    """A grid's held-out score of every seed: a panel per lag, `x` (units, epochs or the cell)
    across it, a colour per cell where there are several, the axes fitted to the scores as in
    seed_scores."""
    runs = runs.assign(cell=runs["cell"].map(cell_label))
    cells = list(dict.fromkeys(runs["cell"]))
    hue = {"hue": "cell", "hue_order": cells, "dodge": True, "legend": True,
           "palette": dict(zip(cells, sns.color_palette("colorblind", len(cells))))} \
        if len(cells) > 1 and x != "cell" else {"color": "tab:blue"}
    with _seeded_numpy(0):
        grid = sns.catplot(data=runs, x=x, y="eval_accuracy", col="lag", kind="strip",
                           col_wrap=min(4, runs["lag"].nunique()), jitter=0.15, size=3, alpha=0.6,
                           height=2.6, aspect=1.2, sharey=True, **hue)
    grid.set(ylim=score_limits(runs["eval_accuracy"]))
    if chance_shown(runs["eval_accuracy"], chance):
        grid.refline(y=chance, color="tab:red", linestyle="--", linewidth=1)
    grid.set_axis_labels(x, "held-out accuracy")
    grid.set_titles("lag {col_name}")
    _save(grid.figure, path)
    return grid


def score_limits(values: pd.Series) -> tuple[float, float]:
    """An axis fitted to scores in [0, 1]: their range with a margin (at least 0.002, a few
    errors in a thousand), reaching past 0 or 1 only by a quarter of it, so the points there
    show."""
    low, high = float(values.min()), float(values.max())
    margin = max(0.08 * (high - low), 0.002)
    return max(-margin / 4, low - margin), min(1 + margin / 4, high + margin)


def chance_shown(values: pd.Series, chance: float | None) -> bool:
    """Whether chance lies within the axis `score_limits` fits to `values`."""
    low, high = score_limits(values)
    return chance is not None and low <= chance <= high


def _score_axis(axis, values: pd.Series, chance: float | None) -> None:
    axis.set_ylim(*score_limits(values))
    if chance_shown(values, chance):
        axis.axhline(chance, color="tab:red", linestyle="--", linewidth=1, label=f"chance ({chance:.0%})")
        axis.legend(loc="best", frameon=False)


PAIRED_LINES = 8  # most variants whose seeds are joined by lines in the score figure


def contrasts(decisions, path: Path | None) -> plt.Figure:
    """A forest plot: each contrast's mean per-seed difference with its corrected interval,
    zero marked and the band of equivalence (±delta) shaded."""
    figure, axis = plt.subplots(figsize=(6.5, 0.6 * len(decisions) + 1.4))
    rows = np.arange(len(decisions))[::-1]
    for row, decision in zip(rows, decisions):
        d = decision.difference
        axis.fill_betweenx([row - 0.35, row + 0.35], -decision.delta, decision.delta,
                           color="tab:green", alpha=0.15, linewidth=0)
        if np.isfinite(d.low):
            axis.plot([d.low, d.high], [row, row], color="black", linewidth=1.5)
        axis.plot(d.value, row, "o", color=VERDICT_COLOURS[decision.verdict])
    axis.axvline(0, color="grey", linewidth=0.8)
    axis.legend(handles=[matplotlib.patches.Patch(color="tab:green", alpha=0.15,
                                                  label="within ±δ: equivalent")],
                loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize="small")
    axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
    axis.set_yticks(rows, [f"{d.variant} vs {d.reference}\n({decision_label(d)})" for d in decisions])
    axis.set_xlabel("difference in held-out accuracy (variant minus reference), per seed")
    return _save(figure, path)


def findings(found: list, path: Path | None) -> plt.Figure:
    """Every experiment's contrasts at its protocol's rate in one forest plot, (experiment,
    decision) pairs: the mean per-seed difference with its interval, coloured by decision (each
    page's own figure shades its band of equivalence, too narrow to see at this scale)."""
    figure, axis = plt.subplots(figsize=(8, 0.26 * len(found) + 1.6))
    rows = np.arange(len(found))[::-1]
    for row, (_, decision) in zip(rows, found):
        d = decision.difference
        if np.isfinite(d.low):
            axis.plot([d.low, d.high], [row, row], color="black", linewidth=1.2)
        axis.plot(d.value, row, "o", markersize=4, color=VERDICT_COLOURS[decision.verdict])
    axis.axvline(0, color="grey", linewidth=0.8)
    axis.set_yticks(rows, [f"{name}: {d.variant} vs {d.reference}" for name, d in found], fontsize=7)
    axis.set_ylim(-0.8, len(found) - 0.2)
    axis.set_xlabel("difference in held-out accuracy (variant minus reference), per seed")
    handles = [matplotlib.lines.Line2D([], [], marker="o", linestyle="", color=colour,
                                       label=str(verdict))
               for verdict, colour in VERDICT_COLOURS.items()]
    axis.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return _save(figure, path)


VERDICT_COLOURS = {Verdict.BETTER: "tab:blue", Verdict.WORSE: "tab:red",
                   Verdict.EQUIVALENT: "tab:green", Verdict.UNDECIDED: "tab:grey"}


def lag_heatmap(runs: pd.DataFrame, path: Path | None, layer: str, learned: float | None = None
                ) -> plt.Figure:
    """Mean held-out accuracy for each lag (rows) and number of `layer`'s units (columns), or
    with `learned` the share of seeds that reach it."""
    values = runs.assign(eval_accuracy=runs["eval_accuracy"] >= learned) if learned else runs
    table = values.pivot_table(index="lag", columns="units", values="eval_accuracy", aggfunc="mean")
    label = f"share of seeds at >= {learned:.0%}" if learned else "mean held-out accuracy"
    figure, axis = plt.subplots(figsize=(6, 4.5))
    sns.heatmap(table, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="viridis", ax=axis,
                cbar_kws={"label": label})
    axis.set_xlabel(f"{layer} units")
    axis.set_ylabel("lag")
    return _save(figure, path)


def units_needed(table: pd.DataFrame, path: Path | None, sizes: list[int]) -> plt.Figure:
    """Units needed against lag, a line per cell with its interval, on the sizes tried; a lag
    that no size learned is drawn above the largest."""
    above = 1.6 * max(sizes)
    figure, axis = plt.subplots(figsize=(5, 4))
    cells = _per_cell(axis, table, ("units_needed", "low", "high"), above, spread=0.08, capsize=4)
    ticks = list(sizes)
    if np.isinf(table[["units_needed", "high"]].to_numpy()).any():
        axis.axhline(above, color="grey", linestyle=":", linewidth=1)
        ticks.append(above)
    axis.set_yscale("log")
    axis.set_yticks(ticks, [str(s) for s in sizes] + [f"> {max(sizes)}"] * (len(ticks) > len(sizes)))
    axis.minorticks_off()
    axis.set_xticks(sorted(set(table["lag"])))
    axis.set_xlabel("lag")
    axis.set_ylabel("units needed (sizes tried)")
    if len(cells) > 1:
        axis.legend(fontsize=8)
    return _save(figure, path)


def _per_cell(axis, table: pd.DataFrame, columns: tuple[str, str, str], above: float,
              spread: float, capsize: int) -> list[str]:
    """A line per cell of `columns` (point, low, high) against lag with its interval, the cells
    `spread` apart side by side, an infinite value drawn at `above`; the cells, in order."""
    point, low, high = columns
    cells = list(dict.fromkeys(table["cell"]))
    palette = dict(zip(cells, sns.color_palette("colorblind", len(cells))))
    for offset, cell in enumerate(cells):
        rows = table[table["cell"] == cell].replace(np.inf, above)
        x = rows["lag"] + spread * (offset - (len(cells) - 1) / 2)
        axis.errorbar(x, rows[point], yerr=[rows[point] - rows[low], rows[high] - rows[point]],
                      fmt="o-", capsize=capsize, color=palette[cell], label=cell)
    return cells


def delay_line(table: pd.DataFrame, path: Path | None, sizes: list[int], most: int) -> plt.Figure:
    """Units (left) and trainable parameters (right) needed against k, a line per cell with its
    95% interval, beside what holding k values takes: one value per unit, and k log2(n) bits
    at 5 bits per parameter (dotted). A k no size tried was shown to hold is drawn above the
    largest (`sizes` tried; `most`, the most parameters of any cell's largest model)."""
    lags = np.array(sorted(set(table["lag"])))
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    panels = ((axes[0], ("units_needed", "low", "high"), 1.6 * max(sizes), lags, "one value per unit"),
              (axes[1], ("parameters", "parameters_low", "parameters_high"), 1.6 * most,
               lags * table["bits"].iloc[0] / table["lag"].iloc[0] / 5, "5 bits per parameter"))
    for axis, columns, above, bound, label in panels:
        _per_cell(axis, table, columns, above, spread=0.12, capsize=3)
        axis.plot(lags, bound, ":", color="black", linewidth=1.2, label=label)
        axis.axhline(above, color="grey", linestyle="--", linewidth=0.8)
        axis.text(lags[0], above * 1.08, "none tried was enough", fontsize=8, color="grey")
        axis.set_yscale("log")
        axis.set_xticks(lags)
        axis.set_xlabel("k (values held at once)")
        axis.set_ylim(top=above * 2.5)
        axis.legend(fontsize=8, loc="lower right")
    axes[0].set_ylabel(f"units needed (sizes tried: {', '.join(map(str, sizes))})")
    axes[1].set_ylabel("trainable parameters there")
    return _save(figure, path)


def lag_profile(runs: pd.DataFrame, path: Path | None) -> plt.Figure:
    """Held-out accuracy against lag, the lags run as categories, a line per number of epochs
    joining only neighbouring lags run with it, with the 95% t interval over seeds."""
    figure, axis = plt.subplots(figsize=(6, 4))
    lags = sorted(set(runs["lag"]))
    shown = runs.assign(lag=pd.Categorical(runs["lag"], categories=lags, ordered=True))
    budgets = sorted(set(runs["epochs"]))
    palette = dict(zip(budgets, sns.color_palette("colorblind", len(budgets))))
    for epochs in budgets:
        group = shown[shown["epochs"] == epochs]
        estimates = [(lag, mean_interval(values))
                     for lag, values in group.groupby("lag", observed=True)["eval_accuracy"]]
        x = np.array([lags.index(lag) for lag, _ in estimates])
        means = np.array([e.value for _, e in estimates])
        half = np.nan_to_num([e.high - e.value for _, e in estimates])
        axis.errorbar(x, means, yerr=half, fmt="o", capsize=3, color=palette[epochs],
                      label=f"{epochs} epochs")
        for segment in np.split(np.arange(len(x)), np.flatnonzero(np.diff(x) > 1) + 1):
            axis.plot(x[segment], means[segment], color=palette[epochs])
    axis.set_xticks(range(len(lags)), [str(lag) for lag in lags])
    axis.set_ylim(0, 1.02)
    axis.set_xlabel("lag (those run)")
    axis.set_ylabel("held-out accuracy")
    axis.legend(frameon=False)
    return _save(figure, path)


def rate_contrasts(across, path: Path | None) -> plt.Figure:
    """Each contrast's mean per-seed difference against Adam's learning rate (log scale), with
    its interval (Holm-corrected over the rate x contrast table), zero marked and ±δ shaded; a
    hollow point where neither variant learns at that rate."""
    figure, axes = plt.subplots(1, len(across), figsize=(3.2 * len(across) + 0.6, 3.4),
                                sharey=True, squeeze=False)
    for axis, contrast in zip(axes[0], across):
        rates = [row.rate for row in contrast.rows]
        delta = contrast.rows[0].decision.delta if contrast.rows else 0.0
        axis.axhspan(-delta, delta, color="tab:green", alpha=0.15, linewidth=0)
        axis.axhline(0, color="grey", linewidth=0.8)
        for row in contrast.rows:
            d = row.decision.difference
            colour = VERDICT_COLOURS[row.decision.verdict]
            if np.isfinite(d.low):
                axis.plot([row.rate, row.rate], [d.low, d.high], color=colour, linewidth=1.5)
            axis.plot(row.rate, d.value, "o", color=colour,
                      markerfacecolor=colour if row.learns else "white")
        axis.set_xscale("log")
        axis.set_xticks(rates, [f"{r:g}" for r in rates], rotation=45)
        axis.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        axis.set_title(f"{contrast.variant}\nvs {contrast.reference}", fontsize="small")
        axis.set_xlabel("Adam's learning rate")
    axes[0][0].set_ylabel("difference in held-out accuracy\n(variant minus reference)")
    handles = [matplotlib.lines.Line2D([], [], marker="o", linestyle="none", color=colour,
                                       label=str(verdict))
               for verdict, colour in VERDICT_COLOURS.items()]
    handles.append(matplotlib.lines.Line2D([], [], marker="o", linestyle="none", color="black",
                                           markerfacecolor="white", label="neither learns"))
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False,
                  bbox_to_anchor=(0.5, -0.2), fontsize="small")
    return _save(figure, path)


def rate_seeds(runs: pd.DataFrame, path: Path | None, order: list[str]) -> sns.FacetGrid:
    """Every seed's held-out accuracy against Adam's learning rate, a panel per declared variant
    (`order`), the median over seeds joined by a line: where a rate collapses some seeds."""
    rates = sorted(set(runs["learning_rate"]))
    shown = runs.assign(rate=runs["learning_rate"].map(lambda r: f"{r:g}"))
    grid = sns.FacetGrid(shown, col="variant", col_order=order, col_wrap=min(4, len(order)),
                         height=2.6, aspect=1.1, ylim=(-0.02, 1.02))
    with _seeded_numpy(0):  # seaborn jitters with NumPy's global generator
        grid.map_dataframe(sns.stripplot, x="rate", y="eval_accuracy",
                           order=[f"{r:g}" for r in rates], jitter=0.15, size=3.5, alpha=0.7,
                           color="tab:blue")
    grid.map_dataframe(sns.pointplot, x="rate", y="eval_accuracy", order=[f"{r:g}" for r in rates],
                       estimator="median", errorbar=None, color="black", markersize=4,
                       linewidth=1)
    grid.set_titles("{col_name}", size="small")
    grid.set_axis_labels("Adam's learning rate", "held-out accuracy")
    _save(grid.figure, path)
    return grid


@contextmanager
def _seeded_numpy(seed: int):
    """Seed NumPy's global generator for a block, then give back its former state."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _save(figure, path: Path | None):
    """Save the figure to `path` (if given) and close it in pyplot; return it for restyling."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
        plt.close(figure)
    return figure
