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

from bench.report.analyses import UnitsNeededAnalysis, analysis_of
from bench.report.wording import choices_text, decision_label, decision_sentence, estimate_text
from bench.stats.estimates import accuracy_interval, decide, median_epochs, seeds_to_show
from bench.stats.rates import by_rate, cross_fit, decide_tuned, protocol_runs
from bench.store.directory import ExperimentStore, StoreError, stored_experiments
from bench.store.schema import RUN_COLUMNS, SETTINGS_COLUMNS
from echo.experiment import DELTA, Contrast, derived_name
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
            found[name] = runs, mine  # all its runs (at every rate), and the cell's at its own
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
            lines += _tuned(experiment, cell, runs, theirs)
            own = experiment.contrasts_among(set(mine["variant"]))
            lines += [f"- {decision_sentence(d)}." for d in decide(mine, own)] + ([""] if own else [])
            analysis = analysis_of(experiment.analysis)
            if analysis:
                lines += analysis.subsection(_beside(mine, theirs, analysis))
    lines += _units_needed_hint(cell, found, registry)
    lines += _side_by_side(reference)
    return lines


def _beside(mine: pd.DataFrame, theirs: pd.DataFrame, analysis) -> pd.DataFrame:
    """The runs a scorecard's analysis reads: the architecture's, and where the analysis is
    found per cell (units needed), the reference's cells at the same rate and epochs beside it."""
    if not isinstance(analysis, UnitsNeededAnalysis) or not len(theirs):
        return mine
    same = protocol_runs(theirs)
    same = same[same["epochs"].isin(set(mine["epochs"]))
                & same["learning_rate"].isin(set(mine["learning_rate"]))]
    return pd.concat([mine, same], ignore_index=True)


def _units_needed_hint(cell: str, found: dict, registry: Registry) -> list[str]:
    """How to set the architecture's units needed beside the built-in cells', where no runs of
    an experiment that finds them exist yet (one command)."""
    lines = []
    for name, experiment in registry.items():
        if name in found or not isinstance(analysis_of(experiment.analysis), UnitsNeededAnalysis):
            continue
        own = experiment.baseline_setup.learning_rate
        seeds = seeds_to_show(experiment.analysis.share)
        count = len(experiment.with_overrides([{"cell": cell}]).variants)
        lines += [f"Units needed ({name}): no runs of this cell yet. `python -m bench run {name} "
                  f"--set cell={cell} --rates {own:g} --seeds {seeds}` runs its grid at the "
                  f"protocol's rate ({count * seeds} runs) and sets its units needed beside the "
                  "built-in cells' on this page.", ""]
    return lines


def _reference_runs(reference: Path, name: str) -> pd.DataFrame:
    if not (reference / name / "runs.csv").exists():
        return pd.DataFrame(columns=RUN_COLUMNS)
    return ExperimentStore(reference / name).load().runs


def _not_run(experiment, cell: str, present: set) -> list[str]:
    """The declared variants the cell has no runs of, each with why: what the layer cannot do
    or the model it cannot be built into (both refused before training), or not run."""
    # Late: Keras, loaded only to say what a user's layer cannot do.
    from echo.cells import CellError, sequence_layer
    from echo.models import check_builds

    layer = sequence_layer(cell)
    missing = []
    for variant, setup in experiment.variants.items():
        if derived_name(variant, {"cell": cell}) not in present:
            spec = setup.replace(cell=cell).model_spec()
            why = layer.refuses(spec.stateful, spec.head)
            if why:
                missing.append(f"{variant} (the layer {why})")
                continue
            try:
                check_builds(spec)
            except CellError as error:
                missing.append(f"{variant} ({error})")
                continue
            missing.append(f"{variant} (not run with this cell)")
    return [f"Not here: {'; '.join(missing)}.", ""] if missing else []


def _tuned(experiment, cell: str, mine_runs: pd.DataFrame, theirs_runs: pd.DataFrame
           ) -> list[str]:
    """The cell and the declared cell each cross-fitted over the rates both ran (the same
    folds of the same seeds), paired per variant: `mine_runs` and `theirs_runs` are the
    experiment's runs in the results and the reference directories."""
    if not experiment.rates:
        return []
    mine, theirs = by_rate(mine_runs), by_rate(theirs_runs)
    lines = []
    for variant, setup in experiment.variants.items():
        derived = derived_name(variant, {"cell": cell})
        if (derived not in mine.columns.get_level_values(0)
                or variant not in theirs.columns.get_level_values(0)):
            continue
        rates = sorted(set(mine[derived].columns) & set(theirs[variant].columns))
        if len(rates) < 2:
            continue
        delta = min([c.delta for c in experiment.contrasts if variant in (c.variant, c.reference)]
                    or [DELTA])
        a = cross_fit(mine[derived][rates], derived, setup.learning_rate, delta)
        b = cross_fit(theirs[variant][rates], variant, setup.learning_rate, delta)
        d = decide_tuned([(mine[derived][rates], theirs[variant][rates])],
                         [Contrast(derived, variant, delta)], [setup.learning_rate], [delta])[0]
        skill = [estimate_text(accuracy_interval(f.scores), count=True) for f in (a, b)]
        lines.append(f"| {variant} | {choices_text(a.choices)} | {skill[0]} | "
                     f"{choices_text(b.choices)} | {skill[1]} | {decision_label(d)} (n = {d.n}) |")
    if not lines:
        return [f"Tuned: not yet; both need runs at every rate of {experiment.name} "
                f"(`python -m bench run {experiment.name} --set cell={cell}` runs them), the "
                "page above compares both at the declared rate only.", ""]
    return [f"### Tuned: each cell cross-fitted over the rates of {experiment.name}", "",
            "Each cell's rate chosen per fold on the other folds' seeds and scored on the fold's "
            "(see a page's *Learning rates*), the same folds for both, then paired by seed and "
            "decided by a permutation test of the whole procedure.", "",
            "| variant | this cell's rates (folds) | this cell: tuned held-out accuracy | declared "
            "cell's rates (folds) | declared cell: tuned held-out accuracy | this cell vs the "
            "declared, both tuned |", "|---|---|---|---|---|---|", *lines, ""]


def _skill_table(mine: pd.DataFrame, theirs: pd.DataFrame, suffix: str) -> list[str]:
    """Per derived variant: its accuracy and epochs to 99%, the declared variant's accuracy, and
    the paired decision between them."""
    lines = ["| variant | this cell: held-out accuracy | epochs to 99% | declared cell: "
             "held-out accuracy | this cell vs the declared |", "|---|---|---|---|---|"]
    for variant, group in mine.groupby("variant", sort=False):
        base = variant[:-len(suffix)]
        stored = theirs[theirs["variant"] == base]
        declared = stored[(stored[SAME_SETTINGS] == group[SAME_SETTINGS].iloc[0]).all(axis=1)]
        if len(declared):
            decision = decide(pd.concat([group, declared]), [Contrast(variant, base)])[0]
            theirs_text = _skill(declared)[0]
            verdict = f"{decision_label(decision)} (n = {decision.n})"
        elif len(stored):
            theirs_text, verdict = "-", f"no reference runs of these settings ({_differ(group, stored)})"
        else:
            theirs_text, verdict = "-", "no reference runs of this variant"
        lines.append(f"| {base} | {' | '.join(_skill(group))} | {theirs_text} | {verdict} |")
    return lines + [""]


def _differ(mine: pd.DataFrame, stored: pd.DataFrame) -> str:
    """How the reference's runs of a variant differ from the architecture's, in their settings
    but the cell ('epochs 2000 there, 100 here'), and the flag that makes matching ones."""
    here, there = mine[SAME_SETTINGS].iloc[0], stored[SAME_SETTINGS].iloc[0]
    differ = [c for c in SAME_SETTINGS if here[c] != there[c]]
    said = ", ".join(f"{c} {there[c]} there, {here[c]} here" for c in differ)
    hint = (f"; rerun the reference with --epochs {here['epochs']} to pair them"
            if differ == ["epochs"] else "")
    return said + hint


def _side_by_side(reference: Path) -> list[str]:
    """The committed cells on the same task, for scale."""
    runs = protocol_runs(_reference_runs(reference, SIDE_BY_SIDE))
    if not len(runs):
        return []
    lines = [f"## Side by side: LSTM, GRU and SimpleRNN ({SIDE_BY_SIDE} in `{reference}/`, each at "
             "its own learning rate)", "",
             "| variant | held-out accuracy | epochs to 99% |", "|---|---|---|"]
    for variant, group in runs.groupby("variant", sort=False):
        lines.append(f"| {variant} | {' | '.join(_skill(group))} |")
    return lines + [""]


def _skill(runs: pd.DataFrame) -> tuple[str, str]:
    """Held-out accuracy and Kaplan-Meier epochs to 99%, each with its interval and seeds."""
    return (estimate_text(accuracy_interval(runs["eval_accuracy"]), count=True),
            estimate_text(median_epochs(runs["epochs_to_99"], runs["epochs"]), "{:.0f}", True))
