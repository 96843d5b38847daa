"""An experiment is data: a question, the tutorial's claim, named variants, the paired
contrasts that answer the question, and the analysis its report adds to the standard one."""

import dataclasses
import re
from dataclasses import dataclass, field

from echo.scoring import LEARNED
from echo.setup import FRAMINGS, SHAPING, Setup

# One held-out value in 500: the smallest difference in accuracy that matters near the ceiling.
DELTA = 0.002
# An experiment's name is its results folder's: a plain file name, never a path.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


# Adam's learning rates an experiment with contrasts runs every variant at, on every seed:
# log-spaced around the tutorial's 1e-3.
RATES = (3e-4, 1e-3, 3e-3, 1e-2)


def derived_name(variant: str, changes: dict) -> str:
    """A derived variant's name shows its overrides: `drop[units=25]`."""
    return f"{variant}[{','.join(f'{key}={value}' for key, value in changes.items())}]"


def at_rate(variant: str, rate: float) -> str:
    """The name of a variant derived at Adam's learning rate `rate`, as `--set` names it."""
    return derived_name(variant, {"learning_rate": float(rate)})


AT_RATE = "[learning_rate="  # how a variant run at another rate than its own is named


def declared_variant(name: str) -> str:
    """The variant a run was derived from, without its learning rate
    (`lstm[learning_rate=0.01][cell=m:C]` was derived from `lstm[cell=m:C]`)."""
    return re.sub(rf"{re.escape(AT_RATE)}[^\]]*\]", "", name)


@dataclass(frozen=True)
class Contrast:
    """A paired comparison that answers part of the question: `variant` against `reference`
    on the same seeds, and `delta`, the smallest difference in held-out accuracy that matters
    (within it the two count as equivalent)."""

    variant: str
    reference: str
    delta: float = DELTA


@dataclass(frozen=True)
class LagGrid:
    """Report held-out accuracy over a grid of lags and units."""


@dataclass(frozen=True)
class UnitsNeeded:
    """Report, for each lag, the fewest units with which the seeds show (the share's exact
    one-sided 95% lower bound) that at least `share` of seeds reach `learned` held-out accuracy."""

    learned: float = LEARNED
    share: float = 0.8


@dataclass(frozen=True)
class DelayLine:
    """Report, for each cell and lag, the units needed as UnitsNeeded does, in units and in
    trainable parameters, beside what the network must hold: `lag` values of log2(n_unique)
    bits, about one number per unit and five bits per parameter (Collins et al., 2017)."""

    learned: float = LEARNED
    share: float = 0.8


@dataclass(frozen=True)
class LagProfile:
    """Report held-out accuracy against the lag, a line per number of epochs."""


@dataclass(frozen=True)
class Experiment:
    """A question answered by comparing variants (the first is the baseline).

    `claimed_accuracy` is the tutorial's own number for the baseline, where it
    gives one, so reports can set the measurement against it: it holds within
    `claim_tolerance`. A claim of 0% is also judged against chance, which no echo
    falls below. `contrasts` are the paired comparisons the report decides; grids
    declare a trend `analysis` instead. `rates` are Adam's learning rates every variant runs at
    on every seed (each variant's own among them: the protocol's); by default RATES for an
    experiment with contrasts, none (each variant at its own rate) for one without.
    `qualified_by` names experiments that test where this one's answer holds (another protocol,
    a factor it holds fixed): the report sets their answers beside its own.
    """

    name: str
    question: str
    variants: dict[str, Setup]
    claim: str = ""
    notes: str = ""
    baseline: str = field(default="")
    claimed_accuracy: float | None = None
    claim_tolerance: float = DELTA
    contrasts: tuple[Contrast, ...] = ()
    analysis: LagGrid | UnitsNeeded | DelayLine | LagProfile | None = None
    qualified_by: tuple[str, ...] = ()  # experiments whose answers bound this one's protocol
    rates: tuple[float, ...] | None = None  # None: RATES with contrasts, () without

    def __post_init__(self):
        if not NAME.fullmatch(self.name):
            raise ValueError(f"experiment name {self.name!r} is not a plain folder name (letters, "
                             "digits, '_', '.' and '-', at most 100, not starting with a dot)")
        if not self.variants:
            raise ValueError(f"experiment {self.name} has no variants")
        if not self.baseline:
            object.__setattr__(self, "baseline", next(iter(self.variants)))
        if self.baseline not in self.variants:
            raise ValueError(f"baseline {self.baseline!r} is not a variant of {self.name}")
        for variant, setup in self.variants.items():
            try:
                setup.check_rows()
            except ValueError as error:
                raise ValueError(f"{self.name} / {variant}: {error}") from None
        for contrast in self.contrasts:
            unknown = {contrast.variant, contrast.reference} - set(self.variants)
            if unknown or contrast.variant == contrast.reference:
                raise ValueError(f"contrast {contrast.variant} vs {contrast.reference} of "
                                 f"{self.name} must name two different variants of it")
            if not 0 < contrast.delta < 1:
                raise ValueError(f"contrast {contrast.variant} vs {contrast.reference} of "
                                 f"{self.name}: delta must lie in (0, 1), got {contrast.delta}")
        if self.claimed_accuracy is not None and not 0 <= self.claimed_accuracy <= 1:
            raise ValueError(f"{self.name}: claimed_accuracy must lie in [0, 1], got "
                             f"{self.claimed_accuracy}")
        if not 0 <= self.claim_tolerance < 1:
            raise ValueError(f"{self.name}: claim_tolerance must lie in [0, 1), got "
                             f"{self.claim_tolerance}")
        if self.rates is None:
            object.__setattr__(self, "rates", RATES if self.contrasts else ())
        object.__setattr__(self, "rates", tuple(sorted({float(r) for r in self.rates})))
        if any(not 0 < r <= 1 for r in self.rates):
            raise ValueError(f"{self.name}: learning rates must lie in (0, 1]")
        own = {s.learning_rate for s in self.variants.values()} - set(self.rates)
        if self.rates and own:
            raise ValueError(f"{self.name}: its rates {', '.join(f'{r:g}' for r in self.rates)} "
                             f"leave out its variants' own rate {min(own):g}")

    def contrasts_among(self, variants) -> tuple[Contrast, ...]:
        """The declared contrasts whose two variants are both among `variants`, and the same
        contrasts between variants derived with the same overrides (`with_overrides`)."""
        present = set(variants)
        found = []
        for c in self.contrasts:
            derived = sorted({v[len(c.variant):] for v in present if v.startswith(c.variant + "[")})
            found += [Contrast(c.variant + overrides, c.reference + overrides, c.delta)
                      for overrides in ["", *derived]
                      if {c.variant + overrides, c.reference + overrides} <= present]
        return tuple(found)

    def with_overrides(self, grid: list[dict]) -> "Experiment":
        """The experiment with every variant derived under each set of setting changes in
        `grid` (named `variant[key=value,...]`), and its contrasts between derived variants.
        Variants the changes make alike (`--set cell=X` on a grid over cells) are run once, under
        the first one's name, unless a contrast names them."""
        variants = {derived_name(v, changes): _changed(v, setup, changes)
                    for changes in grid for v, setup in self.variants.items()}
        contrasts = tuple(Contrast(derived_name(c.variant, changes),
                                   derived_name(c.reference, changes), c.delta)
                          for changes in grid for c in self.contrasts)
        baseline = derived_name(self.baseline, grid[0])
        named = {baseline} | {v for c in contrasts for v in (c.variant, c.reference)}
        first = {}
        for name, setup in variants.items():
            first.setdefault(setup, name)
        variants = {n: s for n, s in variants.items() if n in named or first[s] == n}
        return dataclasses.replace(self, variants=variants, contrasts=contrasts, baseline=baseline)

    def over_rates(self, only: tuple[float, ...] | None = None) -> "Experiment":
        """The experiment as it runs: every variant at each of its `rates` (or those of them
        `only` names), named as `--set` names it (`v[learning_rate=0.003]`) except at its own
        rate, its contrasts at each rate (the protocol's rate first); itself where it declares
        no rates."""
        own = self.baseline_setup.learning_rate
        rates = sorted((r for r in self.rates if only is None or r in only),
                       key=lambda r: (r != own, r))  # the protocol's first
        if not rates:
            return self
        names = {(v, r): v if r == s.learning_rate else at_rate(v, r)
                 for v, s in self.variants.items() for r in rates}
        variants = {names[v, r]: s.replace(learning_rate=r)
                    for r in rates for v, s in self.variants.items()}
        return dataclasses.replace(
            self, variants=variants,
            contrasts=tuple(Contrast(names[c.variant, r], names[c.reference, r], c.delta)
                            for r in rates for c in self.contrasts),
            baseline=names.get((self.baseline, self.baseline_setup.learning_rate),
                               next(iter(variants))), rates=())

    @property
    def baseline_setup(self) -> Setup:
        """The baseline variant's settings, which other experiments start from."""
        return self.variants[self.baseline]


def _changed(variant: str, setup: Setup, changes: dict) -> Setup:
    """`setup` with `changes`, refusing one its framing would ignore (`--set lag=9` where the
    network echoes the current value would store runs that differ in nothing but their name)."""
    changed = setup.replace(**changes)
    ignored = [k for k in changes if k in SHAPING and k not in FRAMINGS[changed.framing].reads]
    if ignored:
        reads = FRAMINGS[changed.framing].reads
        raise ValueError(f"{ignored[0]} is not read by {variant}'s framing ({changed.framing}, which "
                         f"reads {', '.join(reads) if reads else 'none of ' + ', '.join(SHAPING)}); "
                         "leave it out, or choose other --variants")
    return changed
