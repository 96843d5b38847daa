"""An experiment is data: a question, the tutorial's claim, and named variants."""

from dataclasses import dataclass, field

from echo.setup import Setup


@dataclass(frozen=True)
class Experiment:
    """A question answered by comparing variants (the first is the baseline)."""

    name: str
    question: str
    variants: dict[str, Setup]
    claim: str = ""
    notes: str = ""
    baseline: str = field(default="")

    def __post_init__(self):
        if not self.variants:
            raise ValueError(f"experiment {self.name} has no variants")
        if not self.baseline:
            object.__setattr__(self, "baseline", next(iter(self.variants)))
        if self.baseline not in self.variants:
            raise ValueError(f"baseline {self.baseline!r} is not a variant of {self.name}")
