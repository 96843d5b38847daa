"""The tuned comparison: an experiment's contrasts (or its analysis) again with each variant
at the learning rate its tuning budget chose, beside the answer at the protocol's rates."""

from dataclasses import dataclass

from bench.report.analyses import analysis_of
from bench.report.wording import decision_label, decision_sentence, estimate_text
from bench.stats.estimates import decide
from bench.stats.tuning import rates_chosen
from bench.store.directory import Results
from echo.experiment import tuning_name
from experiments import Registry


@dataclass(frozen=True)
class Tuned:
    """An experiment's contrasts decided at the protocol's rates and at the rates its tuning
    budget chose: the page's section, and the index's summary in a line."""

    lines: list
    summary: str


def tuned_comparison(name: str, loaded: dict[str, Results], alpha: float, registry: Registry
                     ) -> Tuned | None:
    """The tuned comparison of `name`, where its tuning budget (NAME-tuning) has results."""
    experiment, budget = registry.get(name), tuning_name(name)
    if experiment is None or budget not in loaded:
        return None
    analysis = analysis_of(experiment.analysis, registry)
    if not (experiment.contrasts or analysis):
        return None
    chosen = rates_chosen(loaded[budget].runs, experiment)
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
    runs = loaded[name].runs
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
    return _decided_again(experiment, tuned, runs, chosen, lines, alpha)


def _decided_again(experiment, tuned, runs, chosen: dict, lines: list[str], alpha: float) -> Tuned:
    """The declared contrasts decided at the protocol's rates and at the `chosen` ones (the
    `tuned` experiment's), side by side in a table after `lines`."""
    at_protocol = decide(runs, experiment.contrasts, alpha=alpha)
    at_chosen = decide(runs, tuned.contrasts, alpha=alpha)
    lines += ["| contrast | rates (variant, reference) | at the protocol's rates | tuned | "
              "the same answer |", "|---|---|---|---|---|"]
    changed = []
    for contrast, before, after in zip(experiment.contrasts, at_protocol, at_chosen):
        was, now = decision_label(before), decision_label(after)
        same = was == now
        if not same:
            changed.append(f"{contrast.variant} vs {contrast.reference} ({was} -> {now})")
        lines.append(f"| {contrast.variant} vs {contrast.reference} | "
                     f"{chosen[contrast.variant]:g}, {chosen[contrast.reference]:g} | "
                     f"{was} ({estimate_text(before.difference, '{:+.4f}')}) | "
                     f"{now} ({estimate_text(after.difference, '{:+.4f}')}) | "
                     f"{'yes' if same else '**no**'} |")
    lines += ["", *[f"- Tuned: {decision_sentence(d)}." for d in at_chosen], ""]
    held = len(at_protocol) - len(changed)
    summary = (f"{held} of {len(at_protocol)} answers the same"
               + (f"; changed: {', '.join(changed)}" if changed else ""))
    return Tuned(lines, summary)
