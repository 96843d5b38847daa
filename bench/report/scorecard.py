"""`bench scorecard CELL`: one recurrent architecture across the suite, on one page.

The architecture's runs are the suite's variants derived with `--set cell=CELL` (any
experiment run so). Each is set beside its declared variant in a reference results
directory (the committed LSTM results by default), on the same seeds, so every comparison
is paired; the experiment's own contrasts between the derived variants (masking, state, ...)
are decided for the architecture alone; and the committed cell-type runs give LSTM, GRU and
SimpleRNN side by side. Every number has its interval; every sentence is a decision.
"""

from pathlib import Path

import pandas as pd

from bench.report.analyses import analysis_of
from bench.report.wording import decision_label, decision_sentence, estimate_text
from bench.stats.estimates import accuracy_interval, decide, median_epochs
from bench.stats.tuning import rates_chosen
from bench.store.directory import ExperimentStore, StoreError, stored_experiments
from bench.store.schema import RUN_COLUMNS, SETTINGS_COLUMNS
from echo.experiment import Contrast, derived_name, tuning_name
from experiments import Registry

# A reference run pairs with the cell's only where these settings (all but the cell) agree.
SAME_SETTINGS = [c for c in ("epochs", *SETTINGS_COLUMNS) if c != "cell"]
SIDE_BY_SIDE = "cell-type"  # the committed experiment that runs LSTM, GRU and SimpleRNN alike


def scorecard(cell: str, results: Path, reference: Path, registry: Registry) -> list[str]:
    """The page's markdown lines for the architecture `cell` (`registry`, the experiments
    declared)."""
    suffix = derived_name("", {"cell": cell})
    found = {}
    for name in stored_experiments(results):
        runs = ExperimentStore(results / name).load().runs
        mine = runs[runs["variant"].str.endswith(suffix)]
        if len(mine):
            found[name] = runs, mine  # all its runs (those at tuned rates too), and the cell's
    if not found:
        raise StoreError(f"no runs with --set cell={cell} in {results}/; run experiments with "
                         f"`bench run NAME --set cell={cell}` first")
    lines = [f"# Scorecard: {cell}", "",
             f"Runs of `--set cell={cell}` in `{results}/`, each set beside its declared "
             f"variant in `{reference}/` on the same seeds (paired). Held-out accuracy: mean "
             "over seeds with its 95% t interval; epochs to 99%: Kaplan-Meier median with its "
             "95% interval (- where fewer than half the seeds reach it). Unless a table says "
             "*Tuned*, both run at the variant's declared learning rate (the tutorial's Adam "
             "1e-3), tuned for neither.", ""]
    for name, (runs, mine) in found.items():
        experiment = registry.get(name)
        theirs = _reference_runs(reference, name)
        lines += [f"## {name}", ""]
        if experiment is not None:
            lines += [f"{experiment.question}", ""]
        lines += _skill_table(mine, theirs, suffix)
        if experiment is not None:
            lines += _not_run(experiment, cell, set(mine["variant"]))
            lines += _tuned(experiment, cell, results, reference, runs, theirs, registry)
            own = experiment.contrasts_among(set(mine["variant"]))
            lines += [f"- {decision_sentence(d)}." for d in decide(mine, own)] + ([""] if own else [])
            analysis = analysis_of(experiment.analysis, registry)
            if analysis:
                lines += analysis.subsection(mine)
    lines += _side_by_side(reference)
    return lines


def _reference_runs(reference: Path, name: str) -> pd.DataFrame:
    if not (reference / name / "runs.csv").exists():
        return pd.DataFrame(columns=RUN_COLUMNS)
    return ExperimentStore(reference / name).load().runs


def _not_run(experiment, cell: str, present: set) -> list[str]:
    """The declared variants the cell has no runs of, each with why: what the layer cannot do
    (refused before training), or not run."""
    # Late: Keras, loaded only to say what a user's layer cannot do.
    from echo.cells import sequence_layer

    layer = sequence_layer(cell)
    missing = []
    for variant, setup in experiment.variants.items():
        if derived_name(variant, {"cell": cell}) not in present:
            spec = setup.model_spec()
            why = layer.refuses(spec.stateful, spec.head)
            missing.append(f"{variant} ({'the layer ' + why if why else 'not run with this cell'})")
    return [f"Not here: {'; '.join(missing)}.", ""] if missing else []


def _tuned(experiment, cell: str, results: Path, reference: Path, mine_runs: pd.DataFrame,
           theirs_runs: pd.DataFrame, registry: Registry) -> list[str]:
    """The cell and the declared cell each at the learning rate its own tuning runs chose, on
    the same budget (NAME-tuning, run with --set cell=CELL in `results`), paired per variant:
    `mine_runs` and `theirs_runs` are the experiment's runs in `results` and `reference`."""
    budget = tuning_name(experiment.name)
    if budget not in registry:
        return []
    derived = experiment.with_overrides([{"cell": cell}])
    mine_budget, theirs_budget = _reference_runs(results, budget), _reference_runs(reference, budget)
    mine_rates = rates_chosen(mine_budget, derived) if len(mine_budget) else None
    theirs_rates = rates_chosen(theirs_budget, experiment) if len(theirs_budget) else None
    if mine_rates is None or theirs_rates is None:
        return [f"Tuned: not yet; the page above compares both at the declared rates, which "
                f"were not tuned for this cell. Run `python -m bench run {budget} --set "
                f"cell={cell} --results {results}`, then `python -m bench run {experiment.name} "
                f"--tuned --set cell={cell} --results {results}` (the reference needs "
                f"{budget} and the --tuned runs too).", ""]
    lines = [f"### Tuned: each cell at the learning rate its own {budget} runs chose", "",
             "The same budget for both (every variant at every rate on the tuning seeds), then "
             "both on the same evaluation seeds (paired).", "",
             "| variant | this cell's rate | this cell: held-out accuracy | declared cell's rate | "
             "declared cell: held-out accuracy | this cell vs the declared, both tuned |",
             "|---|---|---|---|---|---|"]
    names = zip(experiment.variants, derived.variants, derived.at_rates(mine_rates).variants,
                experiment.at_rates(theirs_rates).variants)
    for variant, mine_name, mine_tuned, theirs_tuned in names:
        a = mine_runs[mine_runs["variant"] == mine_tuned]
        b = theirs_runs[theirs_runs["variant"] == theirs_tuned]
        if len(a) and len(b):
            d = decide(pd.concat([a.assign(variant="cell"), b.assign(variant="declared")]),
                       [Contrast("cell", "declared")])[0]
            verdict = f"{decision_label(d)} (n = {d.n})"
        else:
            verdict = "not trained at its chosen rate yet (`--tuned`)"
        lines.append(f"| {variant} | {mine_rates[mine_name]:g} | {_skill(a)[0] if len(a) else '-'} "
                     f"| {theirs_rates[variant]:g} | {_skill(b)[0] if len(b) else '-'} | {verdict} |")
    return lines + [""]


def _skill_table(mine: pd.DataFrame, theirs: pd.DataFrame, suffix: str) -> list[str]:
    """Per derived variant: its accuracy and epochs to 99%, the declared variant's accuracy, and
    the paired decision between them."""
    lines = ["| variant | this cell: held-out accuracy | epochs to 99% | declared cell: "
             "held-out accuracy | this cell vs the declared |", "|---|---|---|---|---|"]
    for variant, group in mine.groupby("variant", sort=False):
        base = variant[:-len(suffix)]
        declared = theirs[theirs["variant"] == base]
        declared = declared[(declared[SAME_SETTINGS] == group[SAME_SETTINGS].iloc[0]).all(axis=1)]
        if len(declared):
            decision = decide(pd.concat([group, declared]), [Contrast(variant, base)])[0]
            theirs_text = _skill(declared)[0]
            verdict = f"{decision_label(decision)} (n = {decision.n})"
        else:
            theirs_text, verdict = "-", "no reference runs of these settings"
        lines.append(f"| {base} | {' | '.join(_skill(group))} | {theirs_text} | {verdict} |")
    return lines + [""]


def _side_by_side(reference: Path) -> list[str]:
    """The committed cells on the same task, for scale."""
    runs = _reference_runs(reference, SIDE_BY_SIDE)
    if not len(runs):
        return []
    lines = [f"## Side by side: LSTM, GRU and SimpleRNN ({SIDE_BY_SIDE} in `{reference}/`)", "",
             "| variant | held-out accuracy | epochs to 99% |", "|---|---|---|"]
    for variant, group in runs.groupby("variant", sort=False):
        lines.append(f"| {variant} | {' | '.join(_skill(group))} |")
    return lines + [""]


def _skill(runs: pd.DataFrame) -> tuple[str, str]:
    """Held-out accuracy and Kaplan-Meier epochs to 99%, each with its interval and seeds."""
    return (estimate_text(accuracy_interval(runs["eval_accuracy"]), count=True),
            estimate_text(median_epochs(runs["epochs_to_99"], runs["epochs"]), "{:.0f}", True))
