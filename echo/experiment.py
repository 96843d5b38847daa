"""An experiment is data: a question, the tutorial's claim, and named variants."""

from dataclasses import dataclass, field

from echo.setup import Setup


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
