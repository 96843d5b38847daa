"""The command line: `python -m bench list | run | report | speed | compare | scorecard |
abandon`. It parses, then makes one call per command (`bench.cli.launch.run` for `run`, the rest in
`bench.cli.commands`); bad input is one line and exit status 2."""

import argparse
import functools
import os
import sys
import warnings
from pathlib import Path

from bench.cli import commands
from bench.cli.arguments import (
    UsageError,
    learning_rates,
    positive_float,
    positive_int,
    registry_of,
    results_for,
)
from bench.run.options import run_options
from bench.store.files import SetAside

ENGINES = ("per-seed", "vectorized")
RESULTS = Path("results")
OWN_RESULTS = ("results directory (default: results/; for experiments of --experiments PATH, "
               "PATH/results/, or NAME-results/ beside a module file NAME.py)")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    """Every command's options."""
    top = _Parser(prog="bench", description="echo-bench: recurrent networks on the echo problem",
                  allow_abbrev=False)
    commands = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    listing = commands.add_parser("list", help="the experiments, a line each; with names (or "
                                               "all), each in full", allow_abbrev=False)
    listing.add_argument("names", nargs="*", metavar="NAME",
                         help="show these experiments in full: question, rates, every variant's "
                              "settings (all: every one)")
    run = commands.add_parser("run", help="run experiments over many seeds", allow_abbrev=False)
    _run_options(run)
    _speed_options(commands.add_parser("speed", help="time the tutorial's loop and both engines "
                                       "on the same work (nothing written)", allow_abbrev=False))
    _reading_options(commands)
    report = commands.add_parser("report", help="regenerate reports/ from results/ (no training)",
                                 allow_abbrev=False)
    report.add_argument("names", nargs="*", metavar="NAME", help="experiments (default: all found)")
    report.add_argument("--results", type=Path, help=OWN_RESULTS)
    report.add_argument("--out", type=Path,
                        help="reports directory (default: reports/ for results/, else RESULTS/reports)")
    for command in (listing, run, report):
        command.add_argument("--experiments", type=Path, action="append", metavar="PATH",
                             help="also your own experiments: a module file, or a folder of them "
                                  "(repeatable)")
    return top


def _run_options(run: argparse.ArgumentParser) -> None:
    run.add_argument("names", nargs="+", metavar="NAME", help="experiment names, or 'all'")
    run.add_argument("--variants", nargs="+", metavar="VARIANT",
                     help="run only these variants (of the named experiments)")
    run.add_argument("--seeds", type=positive_int, default=10, help="seeds 0..N-1 (default 10)")
    run.add_argument("--epochs", type=positive_int, help="override every variant's epochs")
    run.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1,
                     help="parallel worker processes (default: all cores)")
    run.add_argument("--results", type=Path, help=OWN_RESULTS)
    run.add_argument("--backend", choices=("loky", "dask"), default="loky",
                     help="where tasks run: loky processes here (default) or a Dask cluster")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="with --backend dask: a running scheduler (default: a LocalCluster)")
    run.add_argument("--engine", choices=("auto", *ENGINES), default="auto",
                     help="per-seed: one run per call (the reference); vectorized: many seeds of "
                          "a variant as one compiled program (JAX); auto (default): vectorized "
                          "where JAX can use a GPU here, else per-seed, as fast on a CPU")
    run.add_argument("--chunk", type=positive_int, metavar="N",
                     help="with --engine vectorized: seeds per call (default: what fits the device)")
    run.add_argument("--curve-every", type=positive_int, metavar="K",
                     help="store each curve as means over blocks of K epochs (default: as the "
                          "results already there do, else 1, every epoch)")
    run.add_argument("--force", action="store_true",
                     help="rerun runs already in the results (replacing them)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    _seeding_options(run)
    run.add_argument("--rates", type=learning_rates, metavar="R1,R2",
                     help="run only these of each experiment's learning rates (default: its whole "
                          "grid, see `bench list`)")
    run.add_argument("--set", action="append", metavar="KEY=VALUES", dest="overrides",
                     help="derive variants with a setting changed, e.g. units=25 (a sweep: "
                          "units=25,50; repeat for more settings); names show the override")
    run.add_argument("--wait", action="store_true",
                     help="if another command is writing the same results, wait for it to end "
                          "(default: refuse at once)")


def _seeding_options(run: argparse.ArgumentParser) -> None:
    run.add_argument("--until-decided", action="store_true",
                     help="add rounds of seeds (the same for every variant) until every "
                          "declared contrast and claim is decided, starting from --seeds")
    run.add_argument("--max-seeds", type=positive_int, metavar="N",
                     help="with --until-decided: the most seeds per variant (default 50)")
    run.add_argument("--round", type=positive_int, metavar="K",
                     help="with --until-decided: seeds added per round (default 10)")


def _speed_options(speed: argparse.ArgumentParser) -> None:
    speed.add_argument("name", nargs="?", default="echo-lag", metavar="NAME",
                       help="experiment whose baseline is timed (default echo-lag)")
    speed.add_argument("--engine", nargs="+", choices=("tutorial", *ENGINES), dest="engines",
                       default=["tutorial", *ENGINES], help="what to time (default: all three)")
    speed.add_argument("--seeds", type=positive_int, default=32, help="seeds (default 32)")
    speed.add_argument("--epochs", type=positive_int, help="override the baseline's epochs")
    speed.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1,
                       help="parallel worker processes (default: all cores)")
    speed.add_argument("--chunk", type=positive_int, metavar="N",
                       help="seeds per call of the vectorized engine (default: what fits the device)")
    speed.add_argument("--tutorial-epochs", type=positive_int, default=30, metavar="E",
                       help="epochs of one seed timed for the tutorial's loop (default 30)")
    speed.add_argument("--json", type=Path, metavar="FILE",
                       help="also write the measurements to FILE as JSON, to compare later")


def _reading_options(commands) -> None:
    """compare, scorecard and abandon: commands that read (or tidy) stored results."""
    compare = commands.add_parser("compare", help="two results directories, run against run "
                                                  "(paired by variant, seed and settings)",
                                  allow_abbrev=False)
    compare.add_argument("a", type=Path, metavar="A", help="results directory (the reference)")
    compare.add_argument("b", type=Path, metavar="B", help="results directory compared with A")
    compare.add_argument("names", nargs="*", metavar="NAME", default=[],
                         help="experiments (default: every one in both)")
    compare.add_argument("--tolerance", type=positive_float, metavar="T",
                         help="exit 1 if any seed's held-out accuracy differs by more than T")
    card = commands.add_parser("scorecard", help="one recurrent architecture across the suite, "
                                                 "on one page", allow_abbrev=False)
    card.add_argument("cell", metavar="CELL", help="the cell its runs were made with, as given to "
                                                    "--set cell=CELL")
    card.add_argument("--results", type=Path, default=RESULTS,
                      help="where its runs are (default results/)")
    card.add_argument("--reference", type=Path, default=RESULTS,
                      help="the declared variants' runs to pair with (default results/)")
    card.add_argument("--out", type=Path, metavar="FILE",
                      help="write the page here, its figures in a folder beside it named as the "
                           "page (default: print the page, without figures)")
    abandon = commands.add_parser("abandon", help="drop an unfinished --force, keeping the "
                                                  "stored variant as it is", allow_abbrev=False)
    abandon.add_argument("names", nargs="+", metavar="NAME", help="experiments")
    abandon.add_argument("--variants", nargs="+", metavar="VARIANT",
                         help="only these variants' replacements (default: all)")
    abandon.add_argument("--results", type=Path, default=RESULTS, help="results directory")


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run its command; the exit status. Modules named from the working folder
    (`--set cell=mycells:Cell`) import as under `python -m bench`, which puts it on the path."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    with warnings.catch_warnings():
        warnings.simplefilter("default", SetAside)
        shown = warnings.showwarning
        warnings.showwarning = functools.partial(_said, shown)
        try:
            return _main(sys.argv[1:] if argv is None else argv)
        except BrokenPipeError:  # the reader stopped (`bench list | head`): not an error of ours
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # none at exit either
            return 141  # as a shell reports a command ended by SIGPIPE


def _said(shown, message, category, *where, **how) -> None:
    """A store's notice (a staged file set aside) as one line; any other warning as Python shows it."""
    if issubclass(category, SetAside):
        print(f"bench: {message}", file=sys.stderr)
    else:
        shown(message, category, *where, **how)


def _main(argv: list[str]) -> int:
    try:
        args = parser().parse_args(argv)
        registry, origins = registry_of(getattr(args, "experiments", None))
        if args.command in ("run", "report") and args.results is None:
            args.results = results_for(args.names, registry, origins, RESULTS)
        if args.command == "run":
            # Late (as Terminated below): the run's rooms load pandas and the workers' pool,
            # which the other commands do not need.
            from bench.cli.launch import run

            return run(run_options(args, argv), registry)
        return getattr(commands, f"command_{args.command}")(args, registry)
    except UsageError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        print("bench: interrupted; finished experiments were written, rerun to complete the rest",
              file=sys.stderr)
        from bench.run.session import Terminated

        return 143 if isinstance(stop, Terminated) else 130
