"""Markdown reports with figures, regenerated from results/ alone (never trains).

The same results give byte-identical markdown: every statistic is seeded and
nothing in the text depends on the time or the machine that draws it.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from bench import figures
from bench.stats import bootstrap, compare, interquartile_mean, units_needed
from bench.store import ExperimentStore, StoreError
from echo.experiment import LagGrid, LagProfile, UnitsNeeded
from echo.scoring import TRAILING

EXTRA_SCORES = {"eval_accuracy_incomplete": "held-out accuracy, incomplete rows",
                "eval_sequence_accuracy": "whole rows exact"}
INDEX_TITLE = "# echo-bench reports"
TOLERANCE = 0.02  # a claim holds when the measured mean lies within this of it


MARKER = ".echo-bench-reports"  # marks a folder as written by `bench report`


def write_reports(results: Path, out: Path, names: list[str] | None = None
                  ) -> tuple[list[str], list[str]]:
    """Write reports/NAME.md (with figures) for every experiment in `results`, and the index.
    Each experiment is read on its own: returns those reported and, a line each, those whose
    results could not be read."""
    from experiments import EXPERIMENTS

    found = {p.parent.name for p in [*results.glob("*/runs.csv"), *results.glob("*/meta.json")]}
    available = [n for n in EXPERIMENTS if n in found] + sorted(found - set(EXPERIMENTS))
    unknown = [n for n in names or [] if n not in available]
    if unknown:
        raise StoreError(f"no results for {unknown[0]!r} in {results}/; found "
                         f"{', '.join(available) or 'none'}")
    loaded, problems = {}, []
    for name in available:
        try:
            contents = _load(results / name)
        except StoreError as error:
            problems.append(str(error))
            continue
        if contents is not None:
            loaded[name] = contents
    chosen = [n for n in names or available if n in loaded]
    empty = [n for n in names or [] if n not in loaded and n in available]
    problems += [f"{results / n}/runs.csv holds no runs" for n in empty
                 if not any(str(results / n) in p for p in problems)]
    if not chosen:
        if problems:
            raise StoreError(problems[0])
        raise StoreError(f"no results in {results}/ (run `python -m bench run` first)")
    claim(out)
    for name in chosen:
        (out / f"{name}.md").write_text(experiment_report(name, *loaded[name], out))
    (out / "README.md").write_text(index(loaded))
    return chosen, problems


def claim(out: Path) -> None:
    """Make `out` a reports folder, refusing one that holds files `bench report` did not write."""
    if out.exists() and not out.is_dir():
        raise StoreError(f"--out {out} is a file, not a folder")
    if out.is_dir() and not (out / MARKER).exists() and not _legacy_reports(out):
        others = sorted(p.name for p in out.iterdir())
        if others:
            raise StoreError(f"{out}/ holds files `bench report` did not write ({', '.join(others[:3])}"
                             f"{', ...' if len(others) > 3 else ''}); choose a new or empty --out folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / MARKER).write_text("Written by `python -m bench report`; it rewrites this folder.\n")
    except OSError as error:
        raise StoreError(f"cannot write reports in {out}: {error.strerror or error}") from None


def _legacy_reports(out: Path) -> bool:
    """A reports folder written before the marker existed: its index says who made it."""
    index = out / "README.md"
    try:
        return index.is_file() and index.read_text().startswith(INDEX_TITLE)
    except (OSError, UnicodeDecodeError):
        return False


def _load(directory: Path):
    """An experiment's runs, curves and meta; None when it holds no runs."""
    store = ExperimentStore(directory)
    runs, curves = store.load()
    if runs.empty:
        return None
    meta = store.meta()
    if meta is None:
        raise StoreError(f"{directory / 'meta.json'} is missing; run the command that made these "
                         "results again to restore it (finished runs are not retrained)")
    return runs, curves, meta


def experiment_report(name: str, runs: pd.DataFrame, curves: pd.DataFrame, meta: dict,
                      out: Path) -> str:
    present = list(dict.fromkeys(runs["variant"]))
    order = [v for v in meta["variants"] if v in present] + [v for v in present
                                                              if v not in meta["variants"]]
    baseline = meta["baseline"] if meta["baseline"] in order else order[0]
    lines = [f"# {name}", "", f"**Question.** {meta['question']}", ""]
    if meta.get("claim"):
        lines += [f"**The tutorial.** {meta['claim']}", ""]
    if meta.get("notes"):
        lines += [f"**Notes.** {meta['notes']}", ""]
    seeds = sorted(set(runs["seed"]))
    lines += [f"**Made by** `{meta['command']}` ({len(seeds)} seeds, Keras backend "
              f"{meta['keras_backend']}, commit {meta.get('git_commit') or 'unknown'}).", "",
              "| variant | settings |", "|---|---|"]
    lines += [f"| {v}{' (baseline)' if v == baseline else ''} | {meta['descriptions'].get(v, 'settings not recorded')} |"
              for v in order]
    lines += ["", "## Results", "", *summary_table(runs, order), "",
              "Intervals are 95% percentile bootstraps over seeds. IQM: mean of the middle half "
              f"of the seeds. Epochs to 99%: first epoch whose {TRAILING}-epoch trailing mean training "
              "accuracy reaches 0.99, over the seeds that reach it; *never* counts the others. "
              "ms/epoch excludes compilation.", ""]
    if len(order) > 1:
        table = compare(runs, baseline)
        table = table.set_index("variant").loc[[v for v in order if v != baseline]].reset_index()
        lines += [f"## Against the baseline ({baseline})", "",
                  "Two-sided Mann-Whitney U on held-out accuracy, Holm-corrected over the "
                  f"{len(table)} comparisons; P(improvement) is the chance that a random seed of "
                  "the variant beats a random seed of the baseline, ties counting half.", "",
                  "| variant | difference in mean | U | p | Holm p | P(improvement) |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r.variant} | {r.difference:+.4f} | {r.u:.1f} | {r.p:.3g} | {r.p_holm:.3g} | "
                  f"{r.improvement:.2f} |" for r in table.itertuples()]
        lines += ["", "Findings:", ""] + [f"- **{r.variant}**: {r.finding}." for r in table.itertuples()]
        lines += [""]
    analysis = _analysis(name)
    if isinstance(analysis, UnitsNeeded):
        lines += capacity_section(runs, analysis)
    lines += ["## Figures", ""] + draw(name, runs, curves, order, out, analysis)
    return "\n".join(lines) + "\n"


def _analysis(name: str):
    from experiments import EXPERIMENTS

    return getattr(EXPERIMENTS.get(name), "analysis", None)


def capacity_section(runs: pd.DataFrame, enough: UnitsNeeded) -> list[str]:
    """Units needed per lag, with the bootstrap interval and the seeds that learned there."""
    table = units_needed(runs, enough.learned, enough.share)
    largest = int(runs["units"].max())
    lines = ["## Units needed", "",
             f"The fewest units with which at least {enough.share:.0%} of the seeds reach "
             f"{enough.learned:.0%} held-out accuracy; 95% interval from resampling seeds "
             f"(together across sizes); > {largest} means no size tried was enough.", "",
             "| lag | units needed (95% CI) | seeds that learned at that size |", "|---|---|---|"]
    for row in table.itertuples():
        lines.append(f"| {row.lag} | {_units(row.units_needed, largest)} "
                     f"[{_units(row.low, largest)}, {_units(row.high, largest)}] | "
                     f"{row.seeds_learned} of {row.seeds} |")
    return lines + [""]


def _units(value: float, largest: int) -> str:
    return f"> {largest}" if not np.isfinite(value) else f"{value:.0f}"


def summary_table(runs: pd.DataFrame, order: list[str]) -> list[str]:
    extras = [c for c in EXTRA_SCORES if runs[c].notna().any()]
    header = ["variant", "seeds", "held-out accuracy (95% CI)", "IQM",
              *[EXTRA_SCORES[c] + " (95% CI)" for c in extras],
              "epochs to 99%: median (95% CI)", "never", "ms/epoch"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for variant in order:
        group = runs[runs["variant"] == variant]
        reached = group["epochs_to_99"].dropna()
        epochs = bootstrap(reached, np.median)
        cells = [variant, str(len(group)), _estimate(bootstrap(group["eval_accuracy"])),
                 f"{interquartile_mean(group['eval_accuracy']):.4f}",
                 *[_estimate(bootstrap(group[c])) for c in extras],
                 _estimate(epochs, "{:.0f}") if epochs.n else "-",
                 f"{len(group) - len(reached)} of {len(group)}",
                 f"{group['ms_per_epoch'].mean():.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def draw(name: str, runs, curves, order, out: Path, analysis=None) -> list[str]:
    """Draw the experiment's figures under out/NAME/ and return their markdown."""
    folder = out / name
    grid = isinstance(analysis, (LagGrid, UnitsNeeded))
    if grid:
        curves = curves.merge(runs[["variant", "seed", "lag", "units"]], on=["variant", "seed"])
    figures.learning_curves(curves, folder / "curves.png", order,
                            facet=("lag", "units") if grid else None)
    figures.seed_scores(runs, folder / "scores.png", order)
    lines = [f"![training accuracy by epoch ({TRAILING}-epoch trailing mean), 95% band over seeds]"
             f"({name}/curves.png)", "",
             f"![held-out accuracy of every seed]({name}/scores.png)", ""]
    if isinstance(analysis, LagGrid):
        figures.lag_heatmap(runs, folder / "heatmap.png")
        lines += [f"![mean held-out accuracy by lag and units]({name}/heatmap.png)", ""]
    if isinstance(analysis, UnitsNeeded):
        figures.lag_heatmap(runs, folder / "heatmap.png", learned=analysis.learned)
        figures.units_needed(units_needed(runs, analysis.learned, analysis.share),
                             folder / "units-needed.png", sorted(set(runs["units"])))
        lines += [f"![share of seeds reaching {analysis.learned:.0%} held-out accuracy, by lag and "
                  f"units]({name}/heatmap.png)", "",
                  f"![units needed against lag, 95% interval]({name}/units-needed.png)", ""]
    if isinstance(analysis, LagProfile):
        figures.lag_profile(runs, folder / "lag-profile.png")
        lines += [f"![held-out accuracy against lag, a line per number of epochs, 95% band over "
                  f"seeds]({name}/lag-profile.png)", ""]
    return lines


def index(loaded: dict) -> str:
    """reports/README.md: the tutorial's claims against the measurements, then the extensions."""
    lines = [INDEX_TITLE, "",
             "Generated by `python -m bench report` from `results/`; every number comes from a "
             "real run recorded there.", "", "## How the results were made", ""]
    commands = {}
    for name, (_, _, meta) in loaded.items():
        for run in meta["invocations"]:
            entry = commands.setdefault((run["command"], run["wall_seconds"]), [])
            entry.append(f"{name}: {run['runs']} runs")
    lines += [f"- `{command}`: {wall / 60:.1f} minutes wall time ({'; '.join(names)})"
              for (command, wall), names in commands.items()]
    lines += ["", "## The tutorial's claims", "",
              "| experiment | the tutorial | measured held-out accuracy (95% CI) | verdict |",
              "|---|---|---|---|"]
    from experiments import EXPERIMENTS

    for name, (runs, _, meta) in loaded.items():
        claimed = getattr(EXPERIMENTS.get(name), "claimed_accuracy", None)
        if claimed is None:
            continue
        estimate = bootstrap(runs.loc[runs["variant"] == meta["baseline"], "eval_accuracy"])
        gap = estimate.value - claimed
        verdict = (f"holds (mean within {TOLERANCE:.2f} of {claimed:.0%})" if abs(gap) <= TOLERANCE
                   else f"does not hold (mean {abs(gap):.3f} {'above' if gap > 0 else 'below'} "
                        f"{claimed:.0%})")
        lines.append(f"| [{name}]({name}.md) | {meta['claim']} | {_estimate(estimate)} "
                     f"(n = {estimate.n}) | {verdict} |")
    lines += ["", "## The extensions", "", "| experiment | question | answer in a line |",
              "|---|---|---|"]
    for name, (runs, _, meta) in loaded.items():
        if getattr(EXPERIMENTS.get(name), "claimed_accuracy", None) is None:
            lines.append(f"| [{name}]({name}.md) | {meta['question']} | "
                         f"{answer(runs, meta, _analysis(name))} |")
    return "\n".join(lines) + "\n"


def answer(runs: pd.DataFrame, meta: dict, analysis=None) -> str:
    """The experiment's answer in a line: units needed per lag, accuracy per lag, or the best
    variant and how many differ detectably from the baseline."""
    if isinstance(analysis, UnitsNeeded):
        largest = int(runs["units"].max())
        table = units_needed(runs, analysis.learned, analysis.share)
        return (f"units with which {analysis.share:.0%} of seeds reach {analysis.learned:.0%}: "
                + ", ".join(f"lag {r.lag}: {_units(r.units_needed, largest)} "
                            f"[{_units(r.low, largest)}, {_units(r.high, largest)}]"
                            for r in table.itertuples()))
    if isinstance(analysis, LagProfile):
        parts = []
        for epochs, group in runs.groupby("epochs"):
            by_lag = group.groupby("lag")["eval_accuracy"]
            parts.append(f"{epochs} epochs: " + ", ".join(
                f"lag {lag} {_estimate(bootstrap(values), '{:.2f}')}" for lag, values in by_lag))
        return "mean held-out accuracy (95% CI) by lag; " + "; ".join(parts)
    means = runs.groupby("variant")["eval_accuracy"].mean()
    best = means.idxmax()
    text = f"best: {best} ({_estimate(bootstrap(runs.loc[runs['variant'] == best, 'eval_accuracy']))})"
    if len(means) > 1:
        table = compare(runs, meta["baseline"])
        detectable = table[table["p_holm"] < 0.05]
        higher = ", ".join(detectable.loc[detectable["difference"] > 0, "variant"]) or "none"
        lower = len(detectable[detectable["difference"] < 0])
        text += (f"; vs {meta['baseline']}: detectably higher: {higher}; detectably lower: "
                 f"{lower} of {len(table)} (Holm, 5%)")
    return text


def _estimate(estimate, form="{:.4f}") -> str:
    if estimate.n == 0:
        return "-"
    return f"{form.format(estimate.value)} [{form.format(estimate.low)}, {form.format(estimate.high)}]"
