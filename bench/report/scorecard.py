"""`bench scorecard CELL`: one recurrent architecture across the suite, on one page.

The architecture's runs are every run made with it: the suite's variants derived with
`--set cell=CELL`, and the variants an experiment declares with that cell (cell-type's GRU).
Each is set beside its reference in a reference results directory (the committed results by
default), on the same seeds, so every comparison is paired: a derived variant's reference is
the variant it was derived from, a declared one's the experiment's variant alike but for the
cell, which is the LSTM. The experiment's own contrasts between them (masking, state, ...) are
decided for the architecture alone; and the committed cell-type runs give LSTM, GRU and
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
LSTM = "lstm"  # the suite's default cell: a variant declared with another is set against it
SIDE_BY_SIDE = "cell-type"  # the committed experiment that runs LSTM, GRU and SimpleRNN alike


def scorecard(cell: str, results: Path, reference: Path, registry: Registry,
              out: Path | None = None) -> list[str]:
    """The page's markdown lines for the architecture `cell` (`registry`, the experiments
    declared); with `out`, the page's file, an analysis's figures (units needed against lag, a
    line per cell) are drawn in a folder beside it, named as the page."""
    found = {}
    for name in stored_experiments(results):
        runs = ExperimentStore(results / name).load().runs
        mine = runs[runs["cell"] == cell]
        if len(mine):
            found[name] = runs, mine  # all its runs, and the cell's (at every rate)
    if not found:
        raise StoreError(f"no runs of the cell {cell} in {results}/; run experiments with "
                         f"`bench run NAME --set cell={cell}` first")
    lines = [f"# Scorecard: {cell}", "",
             f"Runs of the cell {cell} in `{results}/`, each set beside its reference in "
             f"`{reference}/` on the same seeds (paired): for a variant derived with `--set "
             f"cell={cell}`, the variant it was derived from; for one declared with this cell, "
             "the experiment's variant alike but for the cell (the LSTM). Held-out accuracy: "
             "mean over seeds with its 95% t interval; epochs to 99%: Kaplan-Meier median with "
             "its 95% interval (- where fewer than half the seeds reach it). Unless a table "
             "says *Tuned*, both run at the variant's declared learning rate, tuned for "
             "neither.", ""]
    for name, (runs, mine) in found.items():
        experiment = registry.get(name)
        theirs = _reference_runs(reference, name)
        pairs = {variant: _reference_of(variant, cell, experiment)
                 for variant in dict.fromkeys(protocol_runs(mine)["variant"])}
        lines += [f"## {name}", ""]
        if experiment is not None:
            lines += [f"{experiment.question}", ""]
        analysis = analysis_of(experiment.analysis) if experiment is not None else None
        if isinstance(analysis, UnitsNeededAnalysis):
            lines += ["Per variant: see the experiment's page; here, the units needed beside "
                      "the reference's cells.", ""]
        else:
            lines += _skill_table(protocol_runs(mine), theirs, pairs)
        if experiment is not None:
            lines += _not_run(experiment, cell, set(mine["variant"]))
            if not isinstance(analysis, UnitsNeededAnalysis):
                lines += _tuned(experiment, cell, runs, theirs, pairs)
            own = experiment.contrasts_among(set(mine["variant"]))
            lines += [f"- {decision_sentence(d)}." for d in decide(mine, own)] + ([""] if own else [])
            if analysis:
                beside = _beside(protocol_runs(mine), theirs, analysis)
                lines += analysis.subsection(beside)
                if out is not None:
                    lines += analysis.draw(beside, out.parent / out.stem / name, f"{out.stem}/{name}")
    lines += _units_needed_hint(cell, found, registry)
    lines += _side_by_side(reference)
    return lines


def _beside(mine: pd.DataFrame, theirs: pd.DataFrame, analysis) -> pd.DataFrame:
    """The runs a scorecard's analysis reads: the architecture's, and where the analysis is
    found per cell (units needed), the reference's cells at the same rate and epochs beside it."""
    if not isinstance(analysis, UnitsNeededAnalysis) or not len(theirs):
        return mine
    same = protocol_runs(theirs)
    same = same[(same["cell"] != mine["cell"].iloc[0]) & same["epochs"].isin(set(mine["epochs"]))
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


def _reference_of(variant: str, cell: str, experiment) -> str | None:
    """The variant a run of `cell` is paired with: the one it was derived from with `--set
    cell=`, or the declared variant alike but for the cell (the LSTM, the suite's default);
    None where there is none."""
    suffix = derived_name("", {"cell": cell})
    if suffix in variant:
        return variant.replace(suffix, "")
    if experiment is None or variant not in experiment.variants:
        return None
    return _alike(experiment, experiment.variants[variant], LSTM)


def _alike(experiment, setup, cell: str) -> str | None:
    """The variant `experiment` declares alike `setup` but with `cell`, or None."""
    alike = setup.replace(cell=cell)
    return next((name for name, other in experiment.variants.items() if other == alike), None)


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
        if setup.cell == cell:
            missing += [] if variant in present else [f"{variant} (not run)"]
            continue
        if derived_name(variant, {"cell": cell}) in present or _alike(experiment, setup, cell):
            continue  # run, or the experiment declares this cell's own variant of it
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


def _tuned(experiment, cell: str, mine_runs: pd.DataFrame, theirs_runs: pd.DataFrame,
           pairs: dict) -> list[str]:
    """The cell and its reference each cross-fitted over the rates both ran (the same folds of
    the same seeds), paired per variant: `mine_runs` and `theirs_runs` are the experiment's runs
    in the results and the reference directories, `pairs` each of the cell's variants' reference."""
    if not experiment.rates:
        return []
    mine, theirs = by_rate(mine_runs), by_rate(theirs_runs)
    lines = []
    for variant, reference in pairs.items():
        if (reference is None or variant not in mine.columns.get_level_values(0)
                or reference not in theirs.columns.get_level_values(0)):
            continue
        rates = sorted(set(mine[variant].columns) & set(theirs[reference].columns))
        if len(rates) < 2:
            continue
        own = experiment.variants[reference].learning_rate
        delta = min([c.delta for c in experiment.contrasts
                     if reference in (c.variant, c.reference)] or [DELTA])
        a = cross_fit(mine[variant][rates], variant, own, delta)
        b = cross_fit(theirs[reference][rates], reference, own, delta)
        d = decide_tuned([(mine[variant][rates], theirs[reference][rates])],
                         [Contrast(variant, reference, delta)], [own], [delta])[0]
        skill = [estimate_text(accuracy_interval(f.scores), count=True) for f in (a, b)]
        lines.append(f"| {_label(variant, reference, cell)} | {choices_text(a.choices)} | "
                     f"{skill[0]} | {choices_text(b.choices)} | {skill[1]} | "
                     f"{decision_label(d)} (n = {d.n}) |")
    if not lines:
        return [f"Tuned: not yet; both need runs at every rate of {experiment.name} "
                f"(`python -m bench run {experiment.name} --set cell={cell}` runs them), the "
                "page above compares both at the declared rate only.", ""]
    return [f"### Tuned: each cell cross-fitted over the rates of {experiment.name}", "",
            "Each cell's rate chosen per fold on the other folds' seeds and scored on the fold's "
            "(see a page's *Learning rates*), the same folds for both, then paired by seed and "
            "decided by a permutation test of the whole procedure.", "",
            "| variant | this cell's rates (folds) | this cell: tuned held-out accuracy | "
            "reference's rates (folds) | reference: tuned held-out accuracy | this cell vs the "
            "reference, both tuned |", "|---|---|---|---|---|---|", *lines, ""]


def _label(variant: str, reference: str, cell: str) -> str:
    """A row's variant: the declared one a derived variant stands for, or a declared variant
    of this cell with the one it is set against."""
    return reference if derived_name("", {"cell": cell}) in variant else f"{variant} vs {reference}"


def _skill_table(mine: pd.DataFrame, theirs: pd.DataFrame, pairs: dict) -> list[str]:
    """Per variant of the cell: its accuracy and epochs to 99%, its reference's accuracy, and
    the paired decision between them."""
    lines = ["| variant | this cell: held-out accuracy | epochs to 99% | reference: "
             "held-out accuracy | this cell vs the reference |", "|---|---|---|---|---|"]
    for variant, group in mine.groupby("variant", sort=False):
        reference = pairs[variant]
        if reference is None:
            lines.append(f"| {variant} | {' | '.join(_skill(group))} | - | no variant alike "
                         "but for the cell |")
            continue
        stored = theirs[theirs["variant"] == reference]
        same = stored[(stored[SAME_SETTINGS] == group[SAME_SETTINGS].iloc[0]).all(axis=1)]
        if len(same):
            decision = decide(pd.concat([group, same]), [Contrast(variant, reference)])[0]
            theirs_text = _skill(same)[0]
            verdict = f"{decision_label(decision)} (n = {decision.n})"
        elif len(stored):
            theirs_text, verdict = "-", f"no reference runs of these settings ({_differ(group, stored)})"
        else:
            theirs_text, verdict = "-", "no reference runs of this variant"
        lines.append(f"| {_label(variant, reference, group['cell'].iloc[0])} | "
                     f"{' | '.join(_skill(group))} | {theirs_text} | {verdict} |")
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
