"""Markdown reports with figures, regenerated from results/ alone (never trains).

The same results give byte-identical markdown: every statistic is seeded and
nothing in the text depends on the time or the machine that draws it.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench import figures
from bench.analyses import analysis_of
from bench.stats import (
    ALPHA,
    accuracy_interval,
    decide,
    interquartile_mean,
    judge_claim,
    median_epochs,
    noise_share,
)
from bench.store import ExperimentStore, StoreError
from bench.tuning import protocol_contrasts, protocol_runs, rates_chosen
from bench.wording import estimate_text
from echo.experiment import tuning_name
from echo.scoring import TRAILING
from echo.setup import Setup

LEARNING_RATE = Setup.learning_rate  # the default, at which runs made before the setting ran

EXTRA_SCORES = {"eval_accuracy_incomplete": "held-out accuracy, incomplete rows",
                "eval_sequence_accuracy": "whole rows exact"}
INDEX_TITLE = "# echo-bench reports"


MARKER = ".echo-bench-reports"  # marks a folder as written by `bench report`


def write_reports(results: Path, out: Path, names: list[str] | None = None, progress=None
                  ) -> tuple[list[str], list[str]]:
    """Write reports/NAME.md (with figures) for every experiment in `results`, and the index.
    Each experiment is read on its own: returns those reported and, a line each, those whose
    results could not be read. `progress(line)` hears of each experiment as it starts."""
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
    decided = {name: _decided(name, runs, meta) for name, (runs, _, meta) in loaded.items()}
    tuned = {name: tuned_comparison(name, loaded, decided[name].alpha) for name in loaded}
    for number, name in enumerate(chosen, 1):
        if progress:
            progress(f"[{number}/{len(chosen)}] {name}")
        (out / f"{name}.md").write_text(experiment_report(
            name, *loaded[name], out, decided[name], qualifications(name, loaded, decided),
            tuned[name]))
    (out / "README.md").write_text(index(loaded, decided, tuned, results))
    return chosen, problems


def claim(out: Path) -> None:
    """Make `out` a reports folder, refusing one that holds files `bench report` did not write."""
    if out.exists() and not out.is_dir():
        raise StoreError(f"--out {out} is a file, not a folder")
    if out.is_dir() and not (out / MARKER).is_file():
        others = sorted(p.name for p in out.iterdir())
        if others:
            raise StoreError(f"{out}/ holds files `bench report` did not write ({', '.join(others[:3])}"
                             f"{', ...' if len(others) > 3 else ''}); choose a new or empty --out folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / MARKER).write_text("Written by `python -m bench report`; it rewrites this folder.\n")
    except OSError as error:
        raise StoreError(f"cannot write reports in {out}: {error.strerror or error}") from None


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


def qualifications(name: str, loaded: dict, decided: dict) -> list[str]:
    """The answers of the experiments that qualify `name`'s (its `qualified_by`, those with
    results), a line each with a link to its page."""
    lines = []
    for other in getattr(_experiment(name), "qualified_by", ()):
        if other in loaded:
            runs, _, meta = loaded[other]
            sentences = answers(runs, meta, _experiment(other), decided[other].decisions,
                                decided[other].alpha)
            lines.append(f"[{other}]({other}.md) ({meta['question']}): {'; '.join(sentences)}")
    return lines


@dataclass(frozen=True)
class Tuned:
    """An experiment's contrasts decided at the protocol's rates and at the rates its tuning
    budget chose: the page's section, and the index's summary in a line."""

    lines: list
    summary: str


def tuned_comparison(name: str, loaded: dict, alpha: float) -> Tuned | None:
    """The tuned comparison of `name`, where its tuning budget (NAME-tuning) has results."""
    experiment, budget = _experiment(name), tuning_name(name)
    analysis = analysis_of(getattr(experiment, "analysis", None))
    if experiment is None or budget not in loaded or not (experiment.contrasts or analysis):
        return None
    chosen = rates_chosen(loaded[budget][0], experiment)
    then = ("the contrasts decided again on these seeds with each variant at its chosen rate (a "
            f"family of its own, Holm-corrected, at alpha {alpha:.3g}), beside the decision at "
            "the protocol's rates (the same family as declared)" if experiment.contrasts else
            "the analysis again on these seeds with each variant at its chosen rate")
    lines = ["## Tuned comparison", "",
             f"Each variant's learning rate chosen on its tuning runs ([{budget}]({budget}.md): "
             f"every variant at every rate, on seeds apart from these), then {then}.", ""]
    if chosen is None:
        return Tuned(lines + [f"The tuning budget in {budget} is not complete.", ""],
                     "its tuning budget is not complete")
    runs = loaded[name][0]
    tuned = experiment.at_rates(chosen)
    present = set(runs["variant"])
    missing = [v for v in dict.fromkeys([*experiment.variants, *tuned.variants])
               if v not in present]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        return Tuned(lines + [f"Not yet trained: {shown} (`python -m bench run {name}`, then "
                              f"`python -m bench run {name} --tuned`).", ""],
                     "not every variant is trained at its chosen rate yet")
    if not experiment.contrasts:
        declared = dict(zip(tuned.variants, experiment.variants))
        at_chosen = runs[runs["variant"].isin(declared)].assign(
            variant=lambda t: t["variant"].map(declared))
        answer = analysis.answer(at_chosen)
        return Tuned(lines + analysis.subsection(at_chosen) + [f"At the chosen rates: {answer}.", ""],
                     answer)
    at_protocol = decide(runs, experiment.contrasts, alpha=alpha)
    at_chosen = decide(runs, tuned.contrasts, alpha=alpha)
    lines += ["| contrast | rates (variant, reference) | at the protocol's rates | tuned | "
              "the same answer |", "|---|---|---|---|---|"]
    changed = []
    for contrast, before, after in zip(experiment.contrasts, at_protocol, at_chosen):
        same = before.label == after.label
        if not same:
            changed.append(f"{contrast.variant} vs {contrast.reference} ({before.label} -> "
                           f"{after.label})")
        lines.append(f"| {contrast.variant} vs {contrast.reference} | "
                     f"{chosen[contrast.variant]:g}, {chosen[contrast.reference]:g} | "
                     f"{before.label} ({estimate_text(before.difference, '{:+.4f}')}) | "
                     f"{after.label} ({estimate_text(after.difference, '{:+.4f}')}) | "
                     f"{'yes' if same else '**no**'} |")
    lines += ["", *[f"- Tuned: {d.sentence()}." for d in at_chosen], ""]
    held = len(at_protocol) - len(changed)
    summary = (f"{held} of {len(at_protocol)} answers the same"
               + (f"; changed: {', '.join(changed)}" if changed else ""))
    return Tuned(lines, summary)


def experiment_report(name: str, runs: pd.DataFrame, curves: pd.DataFrame, meta: dict,
                      out: Path, decided: "Decided", qualified: list[str] = (),
                      tuned: Tuned | None = None) -> str:
    present = list(dict.fromkeys(runs["variant"]))
    order = [v for v in meta["variants"] if v in present] + [v for v in present
                                                              if v not in meta["variants"]]
    baseline = meta["baseline"] if meta["baseline"] in order else order[0]
    experiment = _experiment(name)
    analysis = analysis_of(getattr(experiment, "analysis", None))
    alpha, decisions = decided.alpha, decided.decisions
    lines = [f"# {name}", "", f"**Question.** {meta['question']}", ""]
    if meta.get("claim"):
        lines += [f"**The tutorial.** {meta['claim']}", ""]
    if meta.get("notes"):
        lines += [f"**Notes.** {meta['notes']}", ""]
    seeds = sorted(set(runs["seed"]))
    made = [f"`{i['command']}` ({i['runs']} runs, commit {i.get('git_commit') or 'unknown'})"
            for i in meta.get("invocations", []) if i["runs"]] or [f"`{meta['command']}`"]
    lines += [f"**Made by** {'; then '.join(made)}: {len(seeds)} seeds, Keras backend "
              f"{meta['keras_backend']}.", ""]
    if alpha != ALPHA:
        lines += [seeding_sentence(meta["seeding"], alpha, decisions), ""]
    lines += ["| variant | settings | Adam's learning rate |", "|---|---|---|"]
    lines += [f"| {v}{' (baseline)' if v == baseline else ''} | "
              f"{meta['descriptions'].get(v, 'settings not recorded')} | "
              f"{_learning_rate(meta, v)} |" for v in order]
    for variant, note in meta.get("cell_notes", {}).items():
        lines += ["", f"**About the cell.** {variant}: {note}."] if variant in order else []
    lines += ["", "## Answer", ""]
    if tuned is not None:
        lines += [f"At {protocol_rates(experiment)}:", ""]
    lines += [*[f"- {a}." for a in answers(runs, meta, experiment, decisions, alpha)],
              *([f"- At the rates its tuning budget chose: {tuned.summary} (see *Tuned "
                 "comparison*)."] if tuned is not None else []),
              *([""] + [f"**Where this holds.** {q}." for q in qualified] if qualified else []),
              "", "## Results", "", *summary_table(runs, order, meta["settings"]), "",
              "Held-out accuracy: mean over seeds with its 95% t interval (no interval for one "
              "seed). IQM: mean of the middle half of the seeds. Epochs to 99%: first epoch whose "
              f"{TRAILING}-epoch trailing mean training accuracy reaches 0.99; the median is "
              "Kaplan-Meier's, seeds that never reach it counted as censored at their epoch "
              "budget, with its 95% (Greenwood) interval (- where fewer than half the seeds reach "
              "it); *never* counts those seeds. ms/epoch excludes compilation. Held-out noise: "
              "the binomial variance of a seed's accuracy on its held-out values, p(1 - p) over "
              "their number, as a share of the variance between seeds (near 1, the spread "
              "between seeds is mostly held-out noise; - where the seeds do not differ).", ""]
    if decisions:
        lines += contrasts_section(decisions, alpha)
    if tuned is not None:
        lines += tuned.lines
    analysed = protocol_runs(experiment, runs)
    if analysis:
        lines += analysis.section(analysed)
    lines += ["## Figures", ""] + draw(name, runs, curves, order, out, _chance(meta, baseline),
                                       analysis, decisions, analysed)
    return "\n".join(lines) + "\n"


def protocol_rates(experiment) -> str:
    """The learning rate (or rates) the experiment's declared variants run at, as words."""
    rates = sorted({s.learning_rate for s in experiment.variants.values()})
    shown = ", ".join(f"{r:g}" for r in rates)
    return f"the protocol's learning rate{'s' if len(rates) > 1 else ''} (Adam {shown})"


def _learning_rate(meta: dict, variant: str) -> str:
    """A variant's learning rate as its settings record it."""
    if variant not in meta["settings"]:
        return "-"
    rate = meta["settings"][variant].get("learning_rate", LEARNING_RATE)
    return f"{rate:g}"


def _experiment(name: str):
    from experiments import EXPERIMENTS

    return EXPERIMENTS.get(name)


@dataclass(frozen=True)
class Decided:
    """What an experiment's results decide: the level they are tested at, and the decision
    of each declared contrast whose two variants have results."""

    alpha: float
    decisions: list


def _decided(name: str, runs: pd.DataFrame, meta: dict) -> Decided:
    experiment = _experiment(name)
    contrasts = protocol_contrasts(experiment, set(runs["variant"])) if experiment else ()
    alpha = _alpha(meta, runs)
    return Decided(alpha, decide(runs, contrasts, alpha=alpha))


def _chance(meta: dict, variant: str) -> float:
    """The accuracy of guessing: one in the variant's number of distinct values."""
    return 1 / meta["settings"].get(variant, {}).get("n_unique", 100)


def _alpha(meta: dict, runs: pd.DataFrame) -> float:
    """The level decisions are tested at: 0.05, or 0.05 over the looks of the command that
    seeded these runs until decided (while the seeds are the ones it left)."""
    seeding = meta.get("seeding")
    if seeding and seeding["seeds"] == runs["seed"].nunique():
        return seeding["alpha_per_look"]
    return ALPHA


def seeding_sentence(seeding: dict, alpha: float, decisions=()) -> str:
    """How many seeds an experiment got until decided, and why it stopped; and which of its
    `decisions` are open all the same (a rule that stopped before sizes were judged)."""
    stopped = ("every contrast and claim decided" if seeding["stopped"] == "decided" else
               f"the most allowed, still undecided: {', '.join(seeding['undecided'])}")
    still = [f"{d.variant} vs {d.reference}" for d in decisions if d.open]
    if still and seeding["stopped"] == "decided":
        stopped += (f" as its rule then judged (which did not ask whether a difference exceeds "
                    f"δ); open by that question: {', '.join(still)}")
    return (f"**Seeds.** Added {seeding['round']} at a time from {seeding['first']} until "
            f"decided, at most {seeding['max_seeds']} (`{seeding['command']}`): "
            f"{seeding['seeds']} seeds, {stopped}. Each of its at most {seeding['looks']} looks "
            f"tests at alpha {alpha:.3g} (0.05 over the looks), and so do the decisions here.")


def answers(runs: pd.DataFrame, meta: dict, experiment, decisions, alpha: float = ALPHA
            ) -> list[str]:
    """The experiment's answer, sentence by sentence: the claim's verdict, each contrast's
    decision, the trend analysis's answer."""
    sentences = []
    verdict = claim_verdict(runs, meta, experiment, alpha)
    if verdict is not None:
        sentences.append(f"The tutorial's claim {verdict.sentence()} (measured "
                         f"{estimate_text(verdict.measured)})")
    sentences += [d.sentence() for d in decisions]
    analysis = analysis_of(getattr(experiment, "analysis", None))
    if analysis:
        sentences.append(analysis.answer(protocol_runs(experiment, runs)))
    if not sentences:
        best = runs.groupby("variant")["eval_accuracy"].mean().sort_values()
        sentences.append("no contrast is declared; held-out accuracy by variant: " + ", ".join(
            f"{v} {estimate_text(accuracy_interval(runs.loc[runs['variant'] == v, 'eval_accuracy']))}"
            for v in best.index[::-1]))
    return sentences


def claim_verdict(runs: pd.DataFrame, meta: dict, experiment, alpha: float = ALPHA):
    """The tutorial's claim for the baseline judged with its tolerance (and against chance
    where it claims 0%), or None where it gives no number."""
    claimed = getattr(experiment, "claimed_accuracy", None)
    if claimed is None:
        return None
    values = runs.loc[runs["variant"] == meta["baseline"], "eval_accuracy"]
    chance = _chance(meta, meta["baseline"]) if claimed == 0 else None
    return judge_claim(values, claimed, experiment.claim_tolerance, chance=chance, alpha=alpha)


def contrasts_section(decisions, alpha: float = ALPHA) -> list[str]:
    """Each declared contrast: the per-seed differences, their tests and the decision."""
    m = len(decisions)
    lines = ["## Contrasts", "",
             "Variants share seeds (the same seed sees the same sequences), so each contrast is "
             "paired: per-seed differences in held-out accuracy (variant minus reference). "
             f"*Difference*: their mean with a t interval at the level Holm's procedure holds it "
             f"to across the {m} declared contrast" + ("s" if m > 1 else "") + " (95% when alone; "
             "a contrast after the first Holm keeps is held to that step's level), so that it "
             "excludes 0 exactly when Holm rejects; *TOST interval*: "
             f"the same mean at {1 - 2 * alpha / m:.1%} (two one-sided tests at {alpha:.3g}/{m}); "
             "*p*: paired t test, and Holm-adjusted; *sign-flip p*: exact permutation test of "
             "the mean (no normality assumed); *P(improvement)*: the share of seeds on which the "
             "variant scores higher, ties counting half, with a Wilson 95% interval. "
             f"**Better/worse** when the Holm-adjusted p is under {alpha:.3g}, and then by how "
             "much against δ: by more than δ when the difference interval lies beyond it, "
             "**negligibly** when the TOST interval lies inside ±δ, **size undecided** when the "
             "interval crosses δ; **equivalent** when the TOST interval lies inside ±δ without a "
             "significant difference; otherwise **undecided**, with the paired seeds that would "
             "decide it if the mean difference and its spread stayed as observed.", "",
             "| contrast | n | δ | difference | TOST interval | p | Holm p | sign-flip p | "
             "P(improvement) | decision |", "|---|---|---|---|---|---|---|---|---|---|"]
    for d in decisions:
        decision = d.label + (f" (about {d.seeds_needed} seeds)" if d.seeds_needed else "")
        lines.append(f"| {d.variant} vs {d.reference} | {d.n} | {d.delta:g} | "
                     f"{estimate_text(d.difference, '{:+.4f}')} | "
                     f"{estimate_text(d.equivalence, '{:+.4f}')} | {d.p:.2g} | {d.p_holm:.2g} | "
                     f"{d.p_sign_flip:.2g} | {estimate_text(d.improvement, '{:.2f}')} | "
                     f"{decision} |")
    return lines + [""]


def summary_table(runs: pd.DataFrame, order: list[str], settings: dict) -> list[str]:
    extras = [c for c in EXTRA_SCORES if runs[c].notna().any()]
    header = ["variant", "seeds", "held-out accuracy (95% CI)", "IQM",
              *[EXTRA_SCORES[c] + " (95% CI)" for c in extras], "held-out values",
              "held-out noise", "epochs to 99%: median (95% CI)", "never", "ms/epoch"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for variant in order:
        group = runs[runs["variant"] == variant]
        epochs = median_epochs(group["epochs_to_99"], group["epochs"])
        never = int(group["epochs_to_99"].isna().sum())
        values = Setup(**settings[variant]).scored_values() if variant in settings else 0
        share = noise_share(group["eval_accuracy"], values) if values else float("nan")
        cells = [variant, str(len(group)), estimate_text(accuracy_interval(group["eval_accuracy"])),
                 f"{interquartile_mean(group['eval_accuracy']):.4f}",
                 *[estimate_text(accuracy_interval(group[c])) for c in extras],
                 f"{values:,}" if values else "-", "-" if np.isnan(share) else f"{share:.2f}",
                 estimate_text(epochs, "{:.0f}"), f"{never} of {len(group)}",
                 f"{group['ms_per_epoch'].mean():.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def draw(name: str, runs, curves, order, out: Path, chance: float, analysis=None,
         decisions=(), analysed=None) -> list[str]:
    """Draw the experiment's figures under out/NAME/ and return their markdown; the analysis's
    figures (and the learning curves it facets) from the runs it reads, `analysed` (all)."""
    folder = out / name
    analysed = runs if analysed is None else analysed
    facet = analysis.facet if analysis else None
    if facet:
        curves = curves.merge(analysed[["variant", "seed", *facet]], on=["variant", "seed"])
    figures.learning_curves(curves, folder / "curves.png", order, facet=facet)
    figures.seed_scores(runs, folder / "scores.png", order, chance=chance)
    lines = [f"![training accuracy by epoch ({TRAILING}-epoch trailing mean), 95% band over seeds]"
             f"({name}/curves.png)", "",
             f"![held-out accuracy of every seed on a 0-1 scale, a seed's variants joined, chance "
             f"dashed]({name}/scores.png)", ""]
    if decisions:
        figures.contrasts(decisions, folder / "contrasts.png")
        lines += [f"![each contrast's mean per-seed difference with its interval, the band of "
                  f"equivalence ±δ shaded]({name}/contrasts.png)", ""]
    if analysis:
        lines += analysis.draw(analysed, folder, name)
    return lines


def made_by(metas: dict) -> list[str]:
    """A line per command that stored runs in these experiments (their meta.json by name): its
    wall time summed over its invocations (each counted once, though it served several
    experiments), and the runs it stored in each experiment."""
    walls, runs_by = {}, {}
    for name, meta in metas.items():
        for run in meta["invocations"]:
            walls.setdefault(run["command"], {})[run.get("started"), run["wall_seconds"]] = \
                run["wall_seconds"]
            stored = runs_by.setdefault(run["command"], {})
            stored[name] = stored.get(name, 0) + run["runs"]
    lines = []
    for command, invocations in walls.items():
        times = f" in {len(invocations)} invocations" if len(invocations) > 1 else ""
        stored = "; ".join(f"{name}: {count} runs" for name, count in runs_by[command].items())
        lines.append(f"- `{command}`: {sum(invocations.values()) / 60:.1f} minutes wall time"
                     f"{times} ({stored})")
    return lines


def index(loaded: dict, decided: dict, tuned: dict, results: Path) -> str:
    """reports/README.md: the tutorial's claims against the measurements, then the extensions
    (with their tuned comparisons, `tuned` by name, where they have one)."""
    lines = [INDEX_TITLE, "",
             f"Generated by `python -m bench report` from `{results.as_posix()}/`; every number "
             "comes from a real run recorded there.", "", "## How the results were made", "",
             "Every command that stored runs here, with its wall time and the runs it stored (a "
             "command run several times, such as the rounds of `--until-decided`, once, its "
             "times summed); a later `--force` replaces the runs an earlier command stored for "
             "those variants.", ""]
    lines += made_by({name: meta for name, (_, _, meta) in loaded.items()})
    claims = []
    for name, (runs, _, meta) in loaded.items():
        verdict = claim_verdict(runs, meta, _experiment(name), decided[name].alpha)
        if verdict is not None:
            claims.append(f"| [{name}]({name}.md) | {meta['claim']} | "
                          f"{estimate_text(verdict.measured)} (n = {verdict.measured.n}) | "
                          f"{verdict.sentence()} |")
    if claims:
        lines += ["", "## The tutorial's claims", "",
                  "A claim holds when the mean's 90% interval lies within its tolerance of the "
                  "claimed accuracy, fails when the 95% interval lies wholly outside it; a claim "
                  "of 0% is also set against chance.", "",
                  "| experiment | the tutorial | measured held-out accuracy (95% CI) | verdict |",
                  "|---|---|---|---|", *claims]
    extensions = []
    for name, (runs, _, meta) in loaded.items():
        experiment = _experiment(name)
        if getattr(experiment, "claimed_accuracy", None) is None:
            answer = decided[name]
            sentences = answers(runs, meta, experiment, answer.decisions, answer.alpha)
            see = [f"[{q}]({q}.md)" for q in getattr(experiment, "qualified_by", ())
                   if q in loaded]
            where = f" (where it holds: {', '.join(see)})" if see else ""
            lead = ""
            if tuned[name] is not None:
                lead = f"at {protocol_rates(experiment)}: "
                where += f". At the rates its tuning budget chose: {tuned[name].summary}"
            extensions.append(f"| [{name}]({name}.md) | {meta['question']} | "
                              f"{lead}{'; '.join(sentences)}{where} |")
    if extensions:
        lines += ["", "## The extensions", "", "| experiment | question | answer |", "|---|---|---|",
                  *extensions]
    return "\n".join(lines) + "\n"
