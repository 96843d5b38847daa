"""The commands but `run` (`bench.cli.launch`): each takes its parsed options, makes one call into
the library and prints what it found; bad input is a UsageError (one line, exit status 2)."""

import os
import sys
from pathlib import Path

from bench.cli.arguments import UsageError, check_engine, did_you_mean, results_directories, select
from bench.store.files import StoreError
from echo.experiment import NAME
from echo.spec import cell_problem, user_cell
from experiments import Registry


def command_report(args, registry: Registry) -> int:
    # Late (as in compare and scorecard): reports load scipy and matplotlib, which `run` does not need.
    from bench.report.write import write_reports

    if not args.results.is_dir():
        raise UsageError(f"no results directory {args.results}/ (run `python -m bench run` first)")
    if args.out is None:
        args.out = Path("reports") if args.results == Path("results") else args.results / "reports"
    try:
        written, problems = write_reports(args.results, args.out, registry, args.names or None,
                                          progress=lambda line: print(line, flush=True))
    except StoreError as error:
        raise UsageError(str(error)) from None
    index = (f"index: {args.out / 'README.md'}" if not args.names else
             "the index left as it was: `bench report` with no names rewrites it")
    if len(written) == 1:
        print(f"report of {written[0]}: {args.out / (written[0] + '.md')} ({index})")
    else:
        print(f"reports for {', '.join(written)} in {args.out}/ ({index})")
    for problem in problems:
        print(f"bench: error: not reported: {problem}", file=sys.stderr)
    return 2 if problems else 0


def command_compare(args, registry: Registry) -> int:
    # Late: see command_report.
    from bench.report.compare import compare_directories, table

    results_directories(args.a, args.b)
    try:
        compared = compare_directories(args.a, args.b, args.names or None)
    except StoreError as error:
        raise UsageError(str(error)) from None
    print(f"B = {args.b}/ against A = {args.a}/, paired by variant, seed and settings:")
    print("\n".join(table(compared)))
    if not any(c.pairs for c in compared):
        print(f"bench: {args.a}/ and {args.b}/ share no run of the same variant, seed and "
              "settings: nothing was compared", file=sys.stderr)
        return 1
    if args.tolerance is None:
        return 0
    beyond = [f"{c.experiment}/{c.variant} ({c.largest:.4f})" for c in compared
              if c.largest > args.tolerance]
    if beyond:
        print(f"bench: held-out accuracy differs by more than {args.tolerance:g} on a seed of "
              f"{', '.join(beyond)}", file=sys.stderr)
        return 1
    print(f"every paired seed within {args.tolerance:g} in held-out accuracy")
    return 0


def command_scorecard(args, registry: Registry) -> int:
    # Late: see command_report.
    from bench.report.scorecard import scorecard

    results_directories(args.results, args.reference)
    check_cell(args.cell)
    try:
        page = "\n".join(scorecard(args.cell, args.results, args.reference, registry,
                                   args.out)) + "\n"
    except StoreError as error:
        raise UsageError(str(error)) from None
    if args.out is None:
        print(page, end="")
        return 0
    try:
        args.out.write_text(page)
    except OSError as error:
        raise UsageError(f"cannot write {args.out}: {error.strerror or error}") from None
    print(f"scorecard of {args.cell} in {args.out}")
    return 0


def check_cell(cell: str) -> None:
    """A cell must be one of Keras's, or a user's importable and made here (a UsageError in one
    line otherwise): its page says what it cannot do, which takes the layer itself."""
    if cell_problem(cell):
        raise UsageError(cell_problem(cell))
    if user_cell(cell):
        # Late: Keras, loaded only for a user's cell.
        from echo.cells import CellError, usable

        try:
            usable(cell)
        except CellError as error:
            raise UsageError(str(error)) from None


def command_abandon(args, registry: Registry) -> int:
    """Drop the named experiments' unfinished replacements and the runs they held back. A name
    is an experiment's folder in the results directory, never a path: nothing outside it is
    touched."""
    # Late (as the workers' pool in command_speed): pandas, which `list` does not need.
    from bench.store.directory import ExperimentStore

    results_directories(args.results)
    folders = sorted(p.name for p in args.results.iterdir()
                     if p.is_dir() and not p.is_symlink() and NAME.fullmatch(p.name))
    for name in dict.fromkeys(args.names):
        if name not in folders:
            raise UsageError(f"no results for {name!r} in {args.results}/"
                             f"{did_you_mean(name, folders)}")
    for name in dict.fromkeys(args.names):
        store = ExperimentStore(args.results / name)
        try:
            if args.variants:
                known = (set(store.load().runs["variant"])
                         | {r.variant for r in store.replacements()})
                unknown = [v for v in args.variants if v not in known]
                if unknown:
                    raise UsageError(f"unknown variant {unknown[0]!r}"
                                     f"{did_you_mean(unknown[0], known)} in {name}; choose from "
                                     f"{', '.join(sorted(known)) or 'none stored'}")
            with store.writer():
                dropped = store.abandon(args.variants)
        except StoreError as error:
            raise UsageError(str(error)) from None
        for replacement in dropped:
            print(f"{name} / {replacement.variant}: unfinished --force dropped; the stored runs "
                  "stand")
        if not dropped:
            print(f"{name}: no unfinished --force to drop")
    return 0


def command_speed(args, registry: Registry) -> int:
    # Late: the workers' pool and pandas, which `list` does not need.
    from bench.perf import speed

    if args.name == "all":
        raise UsageError("speed times one experiment's baseline; name one, not all")
    if args.json is not None and not args.json.parent.is_dir():
        raise UsageError(f"no directory {args.json.parent}/ for --json {args.json}")
    experiment = select(registry, [args.name])[0]
    check_engine("vectorized" if "vectorized" in args.engines else "per-seed",
                 args.chunk if "vectorized" in args.engines else None)
    engines = list(dict.fromkeys(args.engines))
    try:
        speeds = speed.measure(experiment, engines, args.seeds, args.jobs, args.chunk,
                         args.tutorial_epochs, args.epochs)
    except RuntimeError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    context = {"experiment": experiment.name, "variant": experiment.baseline,
               "cores": os.cpu_count(), "keras_backend": os.environ.get("KERAS_BACKEND", "jax")}
    print(f"{experiment.name} ({experiment.baseline}), {context['cores']} cores, "
          f"Keras backend {context['keras_backend']}:")
    print("\n".join(speed.table(speeds)))
    if phases := speed.phase_table(speeds):
        print("\nWhere the time went (phases summed over seeds):")
        print("\n".join(phases))
    if args.json is not None:
        speed.write_json(speeds, args.json, context)
    return 0


def command_list(args, registry: Registry) -> int:
    """Without names, one line per experiment (a screen); with names (or `all`), each in full:
    its question, notes, rates and every variant's settings."""
    if not args.names:
        width = max(len(name) for name in registry)
        for experiment in registry.values():
            rates = f" x {len(experiment.rates)} rates" if experiment.rates else ""
            print(f"{experiment.name:<{width}}  {len(experiment.variants):>3} variants{rates:<10}  "
                  f"{experiment.question}")
        print("\n`bench list NAME` shows one in full (its variants' settings); `bench list all`, "
              "every one.")
        return 0
    for experiment in select(registry, args.names):
        print(f"{experiment.name}\n  question: {experiment.question}")
        if experiment.claim:
            print(f"  tutorial: {experiment.claim}")
        if experiment.notes:
            print(f"  notes: {experiment.notes}")
        if experiment.rates:
            print(f"  learning rates: every variant on every seed at Adam "
                  f"{', '.join(f'{r:g}' for r in experiment.rates)}")
        for variant, setup in experiment.variants.items():
            mark = " (baseline)" if variant == experiment.baseline else ""
            print(f"  - {variant}{mark}: {setup.describe()}")
    return 0
