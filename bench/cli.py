"""The command line: `python -m bench list | run`."""

import argparse
import os
import sys
import time
from pathlib import Path


class UsageError(Exception):
    """Bad input: reported as one line and exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="python -m bench", description="echo-bench: recurrent networks on the echo problem")
    commands = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("list", help="each experiment with its question, variants and defaults")
    run = commands.add_parser("run", help="run experiments over many seeds")
    run.add_argument("names", nargs="+", metavar="NAME", help="experiment names, or 'all'")
    run.add_argument("--seeds", type=positive_int, default=10, help="seeds 0..N-1 (default 10)")
    run.add_argument("--epochs", type=positive_int, help="override every variant's epochs")
    run.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1,
                     help="parallel worker processes (default: all cores)")
    run.add_argument("--results", type=Path, default=Path("results"), help="results directory")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    return top


def select(names: list[str]):
    """The experiments named on the command line ('all' for every one)."""
    from experiments import EXPERIMENTS

    if names == ["all"]:
        return list(EXPERIMENTS.values())
    unknown = [name for name in names if name not in EXPERIMENTS]
    if unknown:
        raise UsageError(f"unknown experiment {unknown[0]!r}; choose from {', '.join(EXPERIMENTS)} or all")
    return [EXPERIMENTS[name] for name in dict.fromkeys(names)]


def command_list(_args) -> int:
    from experiments import EXPERIMENTS

    for experiment in EXPERIMENTS.values():
        print(f"{experiment.name}\n  question: {experiment.question}")
        if experiment.claim:
            print(f"  tutorial: {experiment.claim}")
        if experiment.notes:
            print(f"  notes: {experiment.notes}")
        for variant, setup in experiment.variants.items():
            mark = " (baseline)" if variant == experiment.baseline else ""
            print(f"  - {variant}{mark}: {_describe(setup)}")
    return 0


def command_run(args, argv: list[str]) -> int:
    from bench.meta import provenance
    from bench.runner import run_tasks
    from bench.store import curve_rows, run_row, write_experiment
    from bench.tasks import make_tasks

    experiments = select(args.names)
    _check_writable(args.results)
    tasks = make_tasks(experiments, args.seeds, args.epochs)
    start = time.perf_counter()
    runs = {e.name: [] for e in experiments}
    curves = {e.name: [] for e in experiments}
    for task, result in run_tasks(tasks, min(args.jobs, len(tasks)), progress=not args.quiet):
        runs[task.experiment].append(run_row(task, result))
        curves[task.experiment].append(curve_rows(task, result))
    wall = time.perf_counter() - start
    for experiment in experiments:
        mine = [t for t in tasks if t.experiment == experiment.name]
        write_experiment(args.results / experiment.name, runs[experiment.name],
                         curves[experiment.name], provenance(experiment, mine, argv, wall))
        _summarise(experiment.name, runs[experiment.name])
    print(f"{len(tasks)} runs in {wall:.1f} s; results in {args.results}/")
    return 0


def _describe(setup) -> str:
    shape = {"current": "one time step, y(t) = X(t)",
             "lag_without_context": f"one time step, y(t) = X(t-{setup.lag})",
             "lag_with_window": f"window {setup.window}, y(t) = X(t-{setup.lag}), "
                                f"incomplete rows: {setup.missing}",
             "lag_sequence": f"window {setup.window}, every step s echoes X(s-{setup.lag})",
             "last_values": f"window {setup.window}, encoder-decoder echoes its last "
                            f"{setup.out_steps} values",
             "history": f"whole history padded to {setup.length} ({setup.missing}), "
                        f"y(t) = X(t-{setup.lag})"}[setup.framing]
    state = ("stateful, never reset" if setup.carry_state
             else "stateful" if setup.stateful else "stateless")
    return (f"{state} {setup.cell.upper()}({setup.units}), {shape}, batch {setup.batch_size}, "
            f"{setup.epochs} epochs")


def _summarise(name: str, runs: list[dict]) -> None:
    import pandas as pd

    table = pd.DataFrame(runs).groupby("variant")["eval_accuracy"].agg(["mean", "min", "max", "count"])
    for variant, row in table.iterrows():
        print(f"{name} / {variant}: eval accuracy mean {row['mean']:.4f} "
              f"(min {row['min']:.4f}, max {row['max']:.4f}, {int(row['count'])} seeds)")


def _check_writable(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"results path {directory} is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create results directory {directory}: {error.strerror}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"results directory {directory} is not writable")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parser().parse_args(argv)
        if args.command == "list":
            return command_list(args)
        return command_run(args, argv)
    except UsageError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; finished experiments were written, rerun to complete the rest",
              file=sys.stderr)
        return 130
