"""How numbers, decisions and verdicts are written, once for every page, table and line."""

import numpy as np

from bench.stats.estimates import MOST_SEEDS, ClaimVerdict, Decision, Position, Size, Verdict


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
                f"{abs(d.value):.4f} [{d.low:+.4f}, {d.high:+.4f}] (n = {n})")
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
    needed = (f"about {decision.seeds_needed} paired seeds would decide it at the observed spread"
              if decision.seeds_needed else f"more than {MOST_SEEDS:,} paired seeds would be needed")
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
