"""What one `run` command asks for, as an explicit record: the command line parses into it, and
planning, the rounds of `--until-decided` and the session read it (never argparse's Namespace)."""

from dataclasses import dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class RunOptions:
    """The options of `python -m bench run` (see its --help), and the command line as typed."""

    names: tuple[str, ...]
    argv: tuple[str, ...] = ()
    variants: tuple[str, ...] | None = None
    seeds: int = 10
    epochs: int | None = None
    jobs: int = 1
    results: Path = Path("results")
    backend: str = "loky"
    scheduler: str | None = None
    engine: str = "auto"
    chunk: int | None = None
    curve_every: int | None = None
    force: bool = False
    quiet: bool = False
    until_decided: bool = False
    max_seeds: int | None = None
    round: int | None = None
    overrides: tuple[str, ...] = ()
    rates: tuple[float, ...] | None = None  # of each experiment's grid; None: all of it
    wait: bool = False


def run_options(args, argv: list[str]) -> RunOptions:
    """The record of a parsed `run` command line."""
    given = {f.name: getattr(args, f.name) for f in fields(RunOptions) if f.name != "argv"}
    tuples = {name: tuple(given[name]) for name in ("names", "variants", "overrides")
              if given[name] is not None}
    return RunOptions(**{**given, **tuples, "overrides": tuples.get("overrides", ())},
                      argv=tuple(argv))
