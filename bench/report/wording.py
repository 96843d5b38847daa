"""How numbers, decisions and verdicts are written, once for every page, table and line."""

import shlex
from pathlib import Path

import numpy as np

from bench.stats.estimates import MOST_SEEDS, ClaimVerdict, Decision, Estimate, Position, Size, Verdict
from bench.stats.rates import LEARNS, AcrossRates, Change, Robustness, change, effect_ratio


def estimate_text(estimate, form: str = "{:.4f}", count: bool = False) -> str:
    """`value [low, high]`, a bound that does not exist as -, and `(n = N)` with `count`; a
    value without any interval (one seed) as `value (n = N, no interval)`; - without a value."""
    if estimate.n == 0 or not np.isfinite(estimate.value):
        return "-"
    value = form.format(estimate.value)
    if not (np.isfinite(estimate.low) or np.isfinite(estimate.high)):
        return f"{value} (n = {estimate.n}, no interval)"
    low, high = (form.format(b) if np.isfinite(b) else "-" for b in (estimate.low, estimate.high))
    return f"{value} [{low}, {high}]" + (f" (n = {estimate.n})" if count else "")


def decision_label(decision: Decision) -> str:
    """The decision in a few words, as tables and figures show it."""
    verdict = decision.verdict.value
    return {Size.NEGLIGIBLE: f"negligibly {verdict}",
            Size.UNSETTLED: f"{verdict}, size undecided"}.get(decision.size, verdict)


def decision_sentence(decision: Decision) -> str:
    """The decision in words, never stronger than its interval."""
    d, e, n = decision.difference, decision.equivalence, decision.n
    variant, reference, delta = decision.variant, decision.reference, decision.delta
    verdict = decision.verdict.value
    shown = f"{d.value:+.4f} [{d.low:+.4f}, {d.high:+.4f}], n = {n}"
    if decision.size == Size.BEYOND:
        return (f"{variant} is {verdict} than {reference} by more than δ = {delta:g}: by "
                f"{abs(d.value):.4f} (difference {shown})")
    if decision.size == Size.NEGLIGIBLE:
        return (f"{variant} is {verdict} than {reference}, but by less than δ = {delta:g}, a "
                f"negligible difference ({e.value:+.4f}, TOST interval [{e.low:+.4f}, "
                f"{e.high:+.4f}], n = {n})")
    if decision.size == Size.UNSETTLED:
        return (f"{variant} is {verdict} than {reference} ({shown}); whether by more than "
                f"δ = {delta:g} is undecided")
    if decision.verdict == Verdict.EQUIVALENT:
        return (f"{variant} is equivalent to {reference} within ±{delta:g} "
                f"({e.value:+.4f} [{e.low:+.4f}, {e.high:+.4f}], n = {n})")
    if n < 2:
        return (f"{variant} vs {reference} is undecided: {n} seed{'' if n == 1 else 's'} run "
                "with both, no interval")
    needed = (f"about {decision.seeds_needed} paired seeds in all ({decision.seeds_needed - n} "
              "more) would decide it at the observed spread" if decision.seeds_needed
              else f"more than {MOST_SEEDS:,} paired seeds would be needed")
    return f"{variant} vs {reference} is undecided ({shown}); {needed}"


def claim_sentence(claim: ClaimVerdict) -> str:
    """The claim's verdict in words, and against chance where that was judged."""
    tolerance, claimed = claim.tolerance, claim.claimed
    text = {Position.INSIDE: f"holds: within ±{tolerance:g} of {claimed:.0%}",
            Position.ABOVE: f"fails: above {claimed:.0%} by more than {tolerance:g}",
            Position.BELOW: f"fails: below {claimed:.0%} by more than {tolerance:g}",
            Position.UNDECIDED: (f"undecided: the interval reaches both inside and outside "
                                 f"±{tolerance:g} of {claimed:.0%}")}[claim.position]
    if claim.against_chance is not None:
        text += (f"; against chance ({claim.chance:.0%}): "
                 + CHANCE_WORDS[claim.against_chance].format(tolerance=tolerance))
    return text


CHANCE_WORDS = {Position.INSIDE: "equivalent within ±{tolerance:g}", Position.ABOVE: "above chance",
                Position.BELOW: "below chance", Position.UNDECIDED: "undecided"}


def robustness_text(across: AcrossRates) -> str:
    """A contrast's robustness to the rate in words, with the rates it rests on."""
    considered = [row.rate for row in across.rows if row.learns]
    if across.robustness == Robustness.HOLDS:
        return f"{across.robustness} where either variant learns ({_rates(considered)})"
    if across.robustness == Robustness.DEPENDS:
        a, b = across.conflict
        return (f"{across.robustness}: {decision_label(a.decision)} at {a.rate:g}, "
                f"{decision_label(b.decision)} at {b.rate:g}")
    if across.robustness == Robustness.OPEN:
        needed = [f"about {row.decision.seeds_needed} at {row.rate:g}" for row in across.undecided
                  if row.decision.seeds_needed]
        return (f"{across.robustness} at {_rates([row.rate for row in across.undecided])}"
                + (f" (paired seeds in all that would decide it: {', '.join(needed)})" if needed
                   else ""))
    return f"{across.robustness} (median held-out accuracy under {LEARNS:g} at every rate)"


def change_text(before: Decision, after: Decision) -> str:
    """How a second decision of a contrast stands to the first, never more than both allow:
    *changes* only where both are decided, *not confirmed* with the open one's interval, and
    the effect's ratio where its sign holds but its size moves more than 2-fold."""
    found = change(before, after)
    if found == Change.NOT_CONFIRMED:
        d = after if after.open else before
        half = (d.difference.high - d.difference.low) / 2
        shown = f"half-width {half:.4f}" if np.isfinite(half) else "no interval"
        return f"{found} (n = {d.n}, {shown} against δ = {d.delta:g})"
    text = str(found)
    ratio = effect_ratio(before, after)
    if ratio is not None and not 0.5 <= ratio <= 2:
        text += (f", the effect {ratio:.2g} times as large" if ratio > 1
                 else f", the effect {1 / ratio:.2g} times smaller")
    return text


def choices_text(choices) -> str:
    """The rates a cross-fit's folds chose, each with how many folds chose it (ascending)."""
    counts = {rate: list(choices).count(rate) for rate in sorted(set(choices))}
    return ", ".join(f"{rate:g} in {n} of {len(choices)}" for rate, n in counts.items())


def share_text(share: Estimate) -> str:
    """`k of n (share [low, high])`, an exact interval; - without seeds."""
    if share.n == 0:
        return "-"
    return (f"{round(share.value * share.n)} of {share.n} ({share.value:.2f} [{share.low:.2f}, "
            f"{share.high:.2f}])")


def _rates(rates) -> str:
    return ", ".join(f"{r:g}" for r in rates)


# A contrast's robustness to the rate in a word or two, for the index's one line per question.
ROBUSTNESS_SHORT = {Robustness.HOLDS: "hold", Robustness.DEPENDS: "depend on the rate",
                    Robustness.OPEN: "open", Robustness.NEITHER: "where neither learns"}


def command_text(command: str, folder: Path) -> str:
    """A recorded command as a markdown code span, for a reader of the results in `folder`: a
    `--results` that named another folder (the machine's scratch one) is not printed, but said."""
    words = shlex.split(command)
    if "--results" not in words[:-1]:
        return f"`{command}`"
    at = words.index("--results")
    if Path(words[at + 1]).resolve() == folder.resolve():
        return f"`{command}`"
    shown = shlex.join(words[:at] + words[at + 2:])
    return f"`{shown}` (run into another results folder; its runs are now here)"
