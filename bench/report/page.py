"""An experiment's page: its question, how its runs were made, its answer, the results table,
the contrasts, the learning rates, the analysis and the figures. The same results give
byte-identical markdown: every statistic is seeded and nothing depends on the time or machine."""

from pathlib import Path

import numpy as np
import pandas as pd

from bench.report import figures
from bench.report.analyses import analysis_of
from bench.report.answers import Decided, answers, chance_accuracy, own_rate
from bench.report.learning_rates import rates_section, tuned_summary
from bench.report.wording import command_text, decision_label, estimate_text
from bench.stats.estimates import ALPHA, accuracy_interval, interquartile_mean, median_epochs, noise_share
from bench.stats.rates import at_each_rate, protocol_runs
from bench.store.directory import Results
from echo.scoring import TRAILING
from echo.setup import Setup
from experiments import Registry

LEARNING_RATE = Setup.learning_rate  # the default, at which runs made before the setting ran
EXTRA_SCORES = {"eval_accuracy_incomplete": "held-out accuracy, incomplete rows",
                "eval_sequence_accuracy": "whole rows exact"}


def experiment_report(name: str, results: Results, folder: Path, out: Path, decided: Decided,
                      registry: Registry, qualified: list[str] = ()) -> str:
    """The page of `name`, its `results` read from the results folder `folder` (its figures
    drawn under out/NAME/): `decided`, its contrasts decided; `registry`, the experiments
    declared; `qualified`, the answers that qualify it."""
    runs, curves, meta = results.runs, results.curves, results.meta
    present = list(dict.fromkeys(runs["variant"]))
    order = [v for v in meta["variants"] if v in present] + [v for v in present
                                                              if v not in meta["variants"]]
    baseline = meta["baseline"] if meta["baseline"] in order else order[0]
    experiment = registry.get(name)
    analysis = analysis_of(experiment.analysis) if experiment else None
    alpha, decisions = decided.alpha, decided.decisions
    lines = _heading(name, meta)
    lines += ["## Answer", ""]
    if alpha != ALPHA:
        lines += [seeding_sentence(meta["seeding"], alpha, decisions), ""]
    lines += [*[f"- {a}." for a in answers(runs, meta, experiment, decided)],
              *([f"- Tuned (cross-fitted over the rates): {tuned_summary(decided)} (see *Learning "
                 "rates*)."] if decided.tuned is not None else []),
              *([""] + [f"**Where this holds.** {q}" for q in qualified] if qualified else [])]
    for variant, note in meta.get("cell_notes", {}).items():
        lines += ["", f"**About the cell.** {variant}: {note}."] if variant in order else []
    analysed = protocol_runs(runs)
    lines += ["", "## Figures", ""] + draw(name, runs, curves, order, out,
                                           chance_accuracy(meta, baseline), analysis, decisions,
                                           analysed)
    lines += ["## Results", "", *summary_table(runs, order, meta["settings"]), "",
              timing_note(runs, meta), "",
              "Held-out accuracy: mean over seeds with its 95% t interval (no interval for one "
              "seed). IQM: mean of the middle half of the seeds. Epochs to 99%: first epoch whose "
              f"{TRAILING}-epoch trailing mean training accuracy reaches 0.99; the median is "
              "Kaplan-Meier's, seeds that never reach it counted as censored at their epoch "
              "budget, with its 95% (Greenwood) interval (- where fewer than half the seeds reach "
              "it); *never* counts those seeds. ms/epoch excludes compilation. Held-out noise: "
              "the binomial variance of a seed's accuracy on its held-out values, p(1 - p) over "
              "their number, over the variance between seeds: near 1 or above, the seeds differ "
              "no more than held-out noise alone would make them (above 1 only by chance in the "
              "spread of a few seeds); well below 1, they differ by more; - where the seeds do "
              "not differ.", ""]
    if decided.across:
        lines += contrasts_section(decided, meta)
    lines += rates_section(name, runs, meta, decided, out)
    if analysis:
        section, rates = analysis.section(analysed), at_each_rate(runs)
        own = sorted(set(analysed["learning_rate"]))
        if len(rates) > 1:
            section[0] += f" at the protocol's rate (Adam {', '.join(f'{r:g}' for r in own)})"
            lines += analysis.across_rates([(own[0] if rate is None else rate, at)
                                            for rate, at in rates]) if len(own) == 1 else []
        lines += section
        for rate, at in rates[1:]:
            section = analysis.section(at)
            lines += [f"{section[0]} at Adam {rate:g}", *section[1:],
                      *analysis.draw(at, out / name / f"at-{rate:g}", f"{name}/at-{rate:g}")]
    lines += ["## Settings and provenance", "", _made_by(meta, runs["seed"].nunique(), folder), "",
              "| variant | settings | Adam's learning rate |", "|---|---|---|"]
    lines += [f"| {v}{' (baseline)' if v == baseline else ''} | "
              f"{_described(meta, v)} | "
              f"{_learning_rate(meta, v)} |" for v in order]
    return "\n".join(lines) + "\n"


def _described(meta: dict, variant: str) -> str:
    """A variant's settings in a line, in this version's words, from the settings its runs
    recorded (the description stored with them where they are not recorded)."""
    if variant in meta["settings"]:
        return Setup(**meta["settings"][variant]).describe()
    return meta["descriptions"].get(variant, "settings not recorded")


def _heading(name: str, meta: dict) -> list[str]:
    """The question, the tutorial's claim and notes."""
    lines = [f"# {name}", "", f"**Question.** {meta['question']}", ""]
    if meta.get("claim"):
        lines += [f"**The tutorial.** {meta['claim']}", ""]
    if meta.get("notes"):
        lines += [f"**Notes.** {meta['notes']}", ""]
    return lines


def _made_by(meta: dict, seeds: int, folder: Path) -> str:
    """The commands that made the runs (read from `folder`)."""
    made = [f"{command_text(i['command'], folder)} ({i['runs']} runs, commit "
            f"{i.get('git_commit') or 'unknown'})"
            for i in meta.get("invocations", []) if i["runs"]] or [command_text(meta["command"], folder)]
    return f"**Made by** {'; then '.join(made)}: {seeds} seeds, Keras backend {meta['keras_backend']}."


def _learning_rate(meta: dict, variant: str) -> str:
    """A variant's learning rate as its settings record it."""
    if variant not in meta["settings"]:
        return "-"
    rate = meta["settings"][variant].get("learning_rate", LEARNING_RATE)
    return f"{rate:g}"


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


def contrasts_section(decided: Decided, meta: dict) -> list[str]:
    """Each declared contrast at every rate: the per-seed differences, their tests and the
    decision (a rate column where more than one rate ran)."""
    alpha = decided.alpha
    rows = [(row.rate, row.decision) for across in decided.across for row in across.rows]
    m = len(rows)
    rated = len(decided.rates) > 1
    family = (f"the {m} cells of the contrast x rate table" if rated else
              f"the {m} declared contrast" + ("s" if m > 1 else ""))
    lines = ["## Contrasts", "",
             "Variants share seeds (the same seed sees the same sequences), so each contrast is "
             "paired: per-seed differences in held-out accuracy (variant minus reference). "
             f"*Difference*: their mean with a t interval at the level Holm's procedure holds it "
             f"to across {family} (95% when alone; "
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
             "| contrast | " + ("Adam | " if rated else "") + "n | δ | difference | TOST interval "
             "| p | Holm p | sign-flip p | P(improvement) | decision |",
             "|---|" + ("---|" if rated else "") + "---|---|---|---|---|---|---|---|---|"]
    for rate, d in rows:
        decision = decision_label(d) + (f" (about {d.seeds_needed} seeds)" if d.seeds_needed else "")
        protocol = " (protocol)" if rate == own_rate(meta, d.reference) else ""
        lines.append(f"| {d.variant} vs {d.reference} | "
                     + (f"{rate:g}{protocol} | " if rated else "") + f"{d.n} | {d.delta:g} | "
                     f"{estimate_text(d.difference, '{:+.4f}')} | "
                     f"{estimate_text(d.equivalence, '{:+.4f}')} | {d.p:.2g} | {d.p_holm:.2g} | "
                     f"{d.p_sign_flip:.2g} | {estimate_text(d.improvement, '{:.2f}')} | "
                     f"{decision} |")
    return lines + [""]


def timing_note(runs: pd.DataFrame, meta: dict) -> str:
    """Whether the ms/epoch column compares like with like: runs timed in one command (a
    machine's load and clock shared), or in several, whose times differ for reasons of their own."""
    commands, unknown = commands_timing(runs, meta.get("invocations", []))
    if commands == 1 and not unknown:
        return "ms/epoch: every run was timed in one command on one machine, so they compare."
    parts = ([f"{commands} commands"] if commands else []) + (
        [f"{unknown} runs at times not recorded"] if unknown else [])
    return (f"ms/epoch: these runs were timed in {' and '.join(parts)}; times from different "
            "commands differ with the machine's load, so compare costs within one command "
            "(`bench run` of the variants together) or with `bench speed`.")


def commands_timing(runs: pd.DataFrame, invocations: list[dict]) -> tuple[int, int]:
    """How many recorded commands finished these runs, and how many runs no recorded command's
    span holds (their finishing time not recorded, as before it was)."""
    finished = pd.to_datetime(runs["finished_at"], utc=True, errors="coerce")
    spans = [(pd.Timestamp(i["started"]), pd.Timestamp(i["ended"]) if i.get("ended") else
              pd.Timestamp.max.tz_localize("UTC")) for i in invocations if i.get("started")]
    found, unknown = set(), 0
    for when in finished:
        inside = [k for k, (start, end) in enumerate(spans) if start <= when <= end]
        if inside:
            found.add(inside[-1])
        else:
            unknown += 1
    return len(found), unknown


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


def _facet(runs) -> tuple[str, str] | None:
    """How an experiment without an analysis draws its learning curves: a panel per lag and a
    line per cell where it crosses cells with lags (cell-type), else a line per variant."""
    return ("lag", "cell") if runs["lag"].nunique() > 1 and runs["cell"].nunique() > 1 else None


def draw(name: str, runs, curves, order, out: Path, chance: float, analysis=None,
         decisions=(), analysed=None) -> list[str]:
    """Draw the experiment's figures under out/NAME/ and return their markdown; the analysis's
    figures (and the learning curves it facets) from the runs it reads, `analysed` (all)."""
    folder = out / name
    analysed = runs if analysed is None else analysed
    at_own_rate = set(analysed["variant"])
    own = [v for v in order if v in at_own_rate]
    curves = curves[curves["variant"].isin(own)]
    facet = analysis.facet if analysis else _facet(analysed[analysed["variant"].isin(own)])
    panels = ""
    if facet:
        columns = list(dict.fromkeys([*facet, "cell"]))
        curves = curves.merge(analysed[["variant", "seed", *columns]], on=["variant", "seed"])
        rows = " and a row per cell" if "cell" not in facet and curves["cell"].nunique() > 1 else ""
        panels = f", a panel per {facet[0]}{rows}, a line per {facet[1]}"
    figures.learning_curves(curves, folder / "curves.png", own, facet=facet)
    scored = runs[runs["variant"].isin(own)]
    at = " at each variant's own learning rate" if len(own) < len(order) else ""
    if facet and scored["lag"].nunique() > 1:
        across = next(c for c in ("units", "epochs", "cell") if scored[c].nunique() > 1)
        figures.grid_scores(scored, folder / "scores.png", across, chance=chance)
        drawn = f"a panel per lag, {across} across" + (
            ", a colour per cell" if scored["cell"].nunique() > 1 and across != "cell" else "")
    else:
        figures.seed_scores(scored, folder / "scores.png", own, chance=chance)
        drawn = "the mean marked" + (", a seed's variants joined" if 1 < len(own) <= figures.PAIRED_LINES
                                     else "")
    chance_text = ", chance dashed" if figures.chance_shown(scored["eval_accuracy"], chance) else ""
    lines = [f"![training accuracy by epoch ({TRAILING}-epoch trailing mean), 95% band over "
             f"seeds{at}{panels}]({name}/curves.png)", "",
             f"![held-out accuracy of every seed{at}, {drawn}, the axis fitted to the scores"
             f"{chance_text}]({name}/scores.png)", ""]
    if decisions:
        figures.contrasts(decisions, folder / "contrasts.png")
        lines += [f"![each contrast's mean per-seed difference with its interval, the band of "
                  f"equivalence ±δ shaded]({name}/contrasts.png)", ""]
    if analysis:
        lines += analysis.draw(analysed, folder, name)
    return lines
