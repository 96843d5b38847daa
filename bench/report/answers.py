"""What an experiment's results answer, sentence by sentence: the tutorial's claim judged,
each declared contrast decided at every rate at the level its seeding allows, the analysis's
answer."""

from dataclasses import dataclass

import pandas as pd

from bench.report.analyses import analysis_of
from bench.report.wording import claim_sentence, decision_sentence, estimate_text, robustness_text
from bench.stats.estimates import ALPHA, Decision, accuracy_interval, judge_claim
from bench.stats.rates import AcrossRates, CrossFitted, across_rates, at_each_rate, declared_contrasts
from bench.stats.rates import tuned as tuned_decisions
from echo.experiment import Experiment
from echo.setup import Setup


@dataclass(frozen=True)
class Tuned:
    """Each variant cross-fitted over the rates (declared name -> its scores and the folds'
    choices), and every contrast decided on those scores."""

    fitted: dict[str, CrossFitted]
    decisions: list[Decision]


@dataclass(frozen=True)
class Decided:
    """What an experiment's results decide at the level they are tested at: each declared
    contrast at every rate its variants ran (one Holm family over the table), the decisions at
    the protocol's rate among them, and where more than one rate ran, the tuned comparison."""

    alpha: float
    across: list[AcrossRates]
    decisions: list[Decision]
    rates: tuple[float, ...]
    tuned: Tuned | None


def decided(experiment: Experiment | None, runs: pd.DataFrame, meta: dict) -> Decided:
    """The contrasts of `experiment` (None: one no longer declared, which has none) decided on
    its runs at the level its seeding allows, at every rate and cross-fitted."""
    contrasts = declared_contrasts(experiment, runs) if experiment else ()
    alpha = alpha_of(meta, runs)
    across = across_rates(runs, contrasts, alpha=alpha)
    protocol = [row.decision for a in across for row in a.rows
                if row.rate == own_rate(meta, a.reference)]
    rates = tuple(sorted(set(runs["learning_rate"])))
    tuned = None
    if len(rates) > 1 and contrasts:
        own = {v: own_rate(meta, v) for c in contrasts for v in (c.variant, c.reference)}
        tuned = Tuned(*tuned_decisions(runs, contrasts, own, alpha=alpha))
    return Decided(alpha, across, protocol, rates, tuned)


def own_rate(meta: dict, variant: str) -> float:
    """A declared variant's own learning rate (the protocol's), as its settings record it."""
    return meta["settings"].get(variant, {}).get("learning_rate", Setup.learning_rate)


def chance_accuracy(meta: dict, variant: str) -> float:
    """The accuracy of guessing: one in the variant's number of distinct values."""
    return 1 / meta["settings"].get(variant, {}).get("n_unique", 100)


def alpha_of(meta: dict, runs: pd.DataFrame) -> float:
    """The level decisions are tested at: 0.05 for a fixed number of seeds, or 0.05 over the
    looks of the command that seeded these runs until decided, while the results are as it left
    them (its seeds, and no later command stored runs: a fixed-n command that adds a rate grid
    makes the design fixed-n again)."""
    seeding = meta.get("seeding")
    storing = [i["command"] for i in meta.get("invocations", []) if i.get("runs")]
    if (seeding and seeding["seeds"] == runs["seed"].nunique()
            and (not storing or storing[-1] == seeding["command"])):
        return seeding["alpha_per_look"]
    return ALPHA


def answers(runs: pd.DataFrame, meta: dict, experiment: Experiment | None, decided: Decided
            ) -> list[str]:
    """The experiment's answer, sentence by sentence: the claim's verdict, each contrast's
    decision at the protocol's rate and, where more rates ran, its robustness to the rate, the
    trend analysis's answer (None: an experiment no longer declared)."""
    sentences = []
    verdict = claim_verdict(runs, meta, experiment, decided.alpha)
    if verdict is not None:
        sentences.append(f"The tutorial's claim {claim_sentence(verdict)} (measured "
                         f"{estimate_text(verdict.measured)})")
    robustness = {(a.variant, a.reference): a for a in decided.across}
    for d in decided.decisions:
        across = robustness[d.variant, d.reference]
        sentences.append(f"at Adam {own_rate(meta, d.reference):g}, {decision_sentence(d)}"
                         + (f"; across the rates: {robustness_text(across)}"
                            if len(across.rows) > 1 else ""))
    analysis = analysis_of(experiment.analysis) if experiment else None
    if analysis:
        sentences += [analysis.answer(at) for _, at in at_each_rate(runs)]
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
