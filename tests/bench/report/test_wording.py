"""Decisions and claims in words: records in, exact sentences out, never stronger than the
interval they come from."""

import numpy as np
import pytest

from bench.report.wording import (
    change_text,
    claim_sentence,
    decision_label,
    decision_sentence,
    estimate_text,
)
from bench.stats.estimates import ClaimVerdict, Decision, Estimate, Position, Verdict

NONE = Estimate(float("nan"), float("nan"), float("nan"), 0)


def decision(verdict, difference, equivalence=None, n=10, seeds_needed=None):
    """A decision of `a` against `b` at δ = 0.002 with the given intervals."""
    return Decision("a", "b", 0.002, n, Estimate(*difference, n), Estimate(*(equivalence or difference), n),
                    0.01, 0.01, 0.01, NONE, verdict, seeds_needed)


@pytest.mark.parametrize("made, label, sentence", [
    (decision(Verdict.BETTER, (0.02, 0.01, 0.03)), "better",
     "a is better than b by more than δ = 0.002: by 0.0200 (difference +0.0200 [+0.0100, +0.0300], "
     "n = 10)"),
    (decision(Verdict.WORSE, (-0.001, -0.0015, -0.0005), (-0.001, -0.0018, -0.0002)),
     "negligibly worse",
     "a is worse than b, but by less than δ = 0.002, a negligible difference (-0.0010, TOST "
     "interval [-0.0018, -0.0002], n = 10)"),
    (decision(Verdict.BETTER, (0.003, 0.001, 0.005)), "better, size undecided",
     "a is better than b (+0.0030 [+0.0010, +0.0050], n = 10); whether by more than δ = 0.002 "
     "is undecided"),
    (decision(Verdict.EQUIVALENT, (0.0, -0.001, 0.001)), "equivalent",
     "a is equivalent to b within ±0.002 (+0.0000 [-0.0010, +0.0010], n = 10)"),
    (decision(Verdict.UNDECIDED, (0.001, -0.003, 0.005), seeds_needed=40), "undecided",
     "a vs b is undecided (+0.0010 [-0.0030, +0.0050], n = 10); about 40 paired seeds in all (30 "
     "more) would decide it at the observed spread"),
    (decision(Verdict.UNDECIDED, (0.001, -0.003, 0.005)), "undecided",
     "a vs b is undecided (+0.0010 [-0.0030, +0.0050], n = 10); more than 10,000 paired seeds "
     "would be needed"),
    (decision(Verdict.UNDECIDED, (0.001, np.nan, np.nan), n=1), "undecided",
     "a vs b is undecided: 1 seed run with both, no interval"),
])
def test_a_decision_is_worded_by_its_verdict_and_its_size_against_delta(made, label, sentence):
    assert (decision_label(made), decision_sentence(made)) == (label, sentence)


@pytest.mark.parametrize("position, words", [
    (Position.INSIDE, "holds: within ±0.002 of 100%"),
    (Position.ABOVE, "fails: above 100% by more than 0.002"),
    (Position.BELOW, "fails: below 100% by more than 0.002"),
    (Position.UNDECIDED, "undecided: the interval reaches both inside and outside ±0.002 of 100%"),
])
def test_a_claim_is_worded_by_where_the_measured_mean_lies(position, words):
    assert claim_sentence(ClaimVerdict(1.0, 0.002, NONE, position)) == words


def test_a_zero_claim_is_worded_against_chance_too():
    claim = ClaimVerdict(0.0, 0.002, NONE, Position.ABOVE, 0.01, Position.INSIDE)
    assert claim_sentence(claim) == ("fails: above 0% by more than 0.002; against chance (1%): "
                                     "equivalent within ±0.002")


def test_an_estimate_without_seeds_or_interval_says_so():
    assert estimate_text(NONE) == "-"
    assert estimate_text(Estimate(0.5, np.nan, np.nan, 1)) == "0.5000 (n = 1, no interval)"
    assert estimate_text(Estimate(0.5, 0.4, np.nan, 3), count=True) == "0.5000 [0.4000, -] (n = 3)"


@pytest.mark.parametrize("before, after, words", [
    (decision(Verdict.BETTER, (0.02, 0.01, 0.03)), decision(Verdict.UNDECIDED, (0.001, -0.004, 0.006)),
     "not confirmed (n = 10, half-width 0.0050 against δ = 0.002)"),
    (decision(Verdict.UNDECIDED, (0.001, -0.004, 0.006)), decision(Verdict.WORSE, (-0.02, -0.03, -0.01)),
     "not confirmed (n = 10, half-width 0.0050 against δ = 0.002)"),
    (decision(Verdict.BETTER, (0.02, 0.01, 0.03)), decision(Verdict.WORSE, (-0.02, -0.03, -0.01)),
     "changes"),
    (decision(Verdict.BETTER, (0.2, 0.19, 0.21)), decision(Verdict.BETTER, (0.01, 0.005, 0.015)),
     "the same, the effect 20 times smaller"),
    (decision(Verdict.BETTER, (0.01, 0.005, 0.015)), decision(Verdict.BETTER, (0.015, 0.01, 0.02)),
     "the same"),
])
def test_a_second_decision_changes_an_answer_only_where_both_are_decided(before, after, words):
    assert change_text(before, after) == words


def test_a_command_that_wrote_elsewhere_is_printed_without_that_path_and_says_so(tmp_path):
    from bench.report.wording import command_text

    here = tmp_path / "results"
    assert command_text(f"python -m bench run masking --results {here}", here) == \
        f"`python -m bench run masking --results {here}`"
    assert command_text("python -m bench run masking --seeds 3", here) == \
        "`python -m bench run masking --seeds 3`"
    elsewhere = command_text("python -m bench run masking --results /tmp/canon2/results --quiet", here)
    assert elsewhere == ("`python -m bench run masking --quiet` (run into another results folder; "
                         "its runs are now here)") and "/tmp" not in elsewhere
