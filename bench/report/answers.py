"""What an experiment's results answer, sentence by sentence: the tutorial's claim judged,
each declared contrast decided at the level its seeding allows, the analysis's answer."""

from dataclasses import dataclass

import pandas as pd

from bench.report.analyses import analysis_of
from bench.report.wording import claim_sentence, decision_sentence, estimate_text
from bench.stats.estimates import ALPHA, accuracy_interval, decide, judge_claim
from bench.stats.tuning import protocol_contrasts, protocol_runs
from echo.experiment import Experiment
from experiments import Registry


@dataclass(frozen=True)
class Decided:
    """What an experiment's results decide: the level they are tested at, and the decision
    of each declared contrast whose two variants have results."""

    alpha: float
    decisions: list


def decided(experiment: Experiment | None, runs: pd.DataFrame, meta: dict, registry: Registry
            ) -> Decided:
    """The protocol's contrasts of `experiment` (None: one no longer declared, which has none)
    decided on its runs at the level its seeding allows."""
    contrasts = (protocol_contrasts(experiment, set(runs["variant"]), registry.budgeted(experiment))
                 if experiment else ())
    alpha = alpha_of(meta, runs)
    return Decided(alpha, decide(runs, contrasts, alpha=alpha))


def chance_accuracy(meta: dict, variant: str) -> float:
    """The accuracy of guessing: one in the variant's number of distinct values."""
    return 1 / meta["settings"].get(variant, {}).get("n_unique", 100)


def alpha_of(meta: dict, runs: pd.DataFrame) -> float:
    """The level decisions are tested at: 0.05, or 0.05 over the looks of the command that
    seeded these runs until decided (while the seeds are the ones it left)."""
    seeding = meta.get("seeding")
    if seeding and seeding["seeds"] == runs["seed"].nunique():
        return seeding["alpha_per_look"]
    return ALPHA


def answers(runs: pd.DataFrame, meta: dict, experiment: Experiment | None, decisions,
            registry: Registry, alpha: float = ALPHA) -> list[str]:
    """The experiment's answer, sentence by sentence: the claim's verdict, each contrast's
    decision, the trend analysis's answer (None: an experiment no longer declared)."""
    sentences = []
    verdict = claim_verdict(runs, meta, experiment, alpha)
    if verdict is not None:
        sentences.append(f"The tutorial's claim {claim_sentence(verdict)} (measured "
                         f"{estimate_text(verdict.measured)})")
    sentences += [decision_sentence(d) for d in decisions]
    analysis = analysis_of(experiment.analysis, registry) if experiment else None
    if analysis:
        sentences.append(analysis.answer(protocol_runs(runs, registry.budgeted(experiment))))
    if not sentences:
        best = runs.groupby("variant")["eval_accuracy"].mean().sort_values()
        sentences.append("no contrast is declared; held-out accuracy by variant: " + ", ".join(
            f"{v} {estimate_text(accuracy_interval(runs.loc[runs['variant'] == v, 'eval_accuracy']))}"
            for v in best.index[::-1]))
    return sentences


def claim_verdict(runs: pd.DataFrame, meta: dict, experiment: Experiment | None,
                  alpha: float = ALPHA):
    """The tutorial's claim for the baseline judged with its tolerance (and against chance
    where it claims 0%), or None where it gives no number (or the experiment is no longer
    declared)."""
    if experiment is None or experiment.claimed_accuracy is None:
        return None
    claimed = experiment.claimed_accuracy
    values = runs.loc[runs["variant"] == meta["baseline"], "eval_accuracy"]
    chance = chance_accuracy(meta, meta["baseline"]) if claimed == 0 else None
    return judge_claim(values, claimed, experiment.claim_tolerance, chance=chance, alpha=alpha)


def protocol_rates(experiment) -> str:
    """The learning rate (or rates) the experiment's declared variants run at, as words."""
    rates = sorted({s.learning_rate for s in experiment.variants.values()})
    shown = ", ".join(f"{r:g}" for r in rates)
    return f"the protocol's learning rate{'s' if len(rates) > 1 else ''} (Adam {shown})"
