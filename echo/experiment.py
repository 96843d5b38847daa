"""An experiment is data: a question, the tutorial's claim, named variants, and the
analysis its report adds to the standard one."""

from dataclasses import dataclass, field

from echo.setup import Setup


@dataclass(frozen=True)
class LagGrid:
    """Report held-out accuracy over a grid of lags and units."""


@dataclass(frozen=True)
class UnitsNeeded:
    """Report, for each lag, the fewest units with which at least `share` of the seeds reach
    `learned` held-out accuracy."""

    learned: float = 0.99
    share: float = 0.8


@dataclass(frozen=True)
class LagProfile:
    """Report held-out accuracy against the lag, a line per number of epochs."""


@dataclass(frozen=True)
class Experiment:
    """A question answered by comparing variants (the first is the baseline).

    `claimed_accuracy` is the tutorial's own number for the baseline, where it
    gives one, so reports can set the measurement against it.
    """

    name: str
    question: str
    variants: dict[str, Setup]
    claim: str = ""
    notes: str = ""
    baseline: str = field(default="")
    claimed_accuracy: float | None = None
    analysis: LagGrid | UnitsNeeded | LagProfile | None = None

    def __post_init__(self):
        if not self.variants:
            raise ValueError(f"experiment {self.name} has no variants")
        if not self.baseline:
            object.__setattr__(self, "baseline", next(iter(self.variants)))
        if self.baseline not in self.variants:
            raise ValueError(f"baseline {self.baseline!r} is not a variant of {self.name}")

    @property
    def baseline_setup(self) -> Setup:
        """The baseline variant's settings, which other experiments start from."""
        return self.variants[self.baseline]
