"""The `run` command: the experiments its options ask for, checked whole before anything
trains, then their results directories held for the command, planned and run (in rounds with
`--until-decided`)."""

import dataclasses
import importlib.util
import os
import sys
from contextlib import ExitStack

from bench.cli.arguments import (
    UsageError,
    check_engine,
    check_results_path,
    check_sizes,
    chosen_engine,
    only_variants,
    override_grid,
    select,
)
from bench.run import compile_cache
from bench.run.cluster import ClusterError
from bench.run.options import RunOptions
from bench.run.plan import Refused, planned
from bench.run.session import WriteFailed, execute
from bench.store.directory import ExperimentStore, StoreError
from echo.spec import user_cell
from experiments import Registry


def run(options: RunOptions, registry: Registry) -> int:
    """Check, plan and run one `run` command; its exit status."""
    declared = select(registry, list(options.names))
    options = dataclasses.replace(options, engine=chosen_engine(options.engine))
    experiments = asked(declared, options)
    schedule = None
    if options.until_decided:
        # Late: its stopping rule loads scipy, which a plain run does not need.
        from bench.run.rounds import Schedule, until_decided

        most = options.max_seeds or 50
        schedule = Schedule(min(options.seeds, most), options.round or 10, most)
    check_sizes(experiments, schedule.most if schedule else options.seeds, options.epochs)
    check_results_path(options.results)
    check_compile_cache()
    try:
        with ExitStack() as held:
            stores = {}
            for experiment in sorted(experiments, key=lambda e: e.name):
                store = ExperimentStore(options.results / experiment.name)
                stores[experiment.name] = held.enter_context(store.writer(options.wait, _say))
            if schedule is not None:
                return until_decided(schedule, experiments, declared, stores, options)
            plan = planned(experiments, stores, options.seeds, options, options.force)
            return execute(plan, stores, declared, options)
    except (StoreError, Refused, WriteFailed, ClusterError) as error:
        raise UsageError(str(error)) from None


def asked(declared: list, options: RunOptions) -> list:
    """The declared experiments as the options make them (their variants, `--set`) and as they
    run (every variant at each of their learning rates), or a UsageError for options that do not
    go together or variants that cannot run."""
    if options.scheduler and options.backend != "dask":
        raise UsageError("--scheduler needs --backend dask")
    if options.backend == "dask" and importlib.util.find_spec("distributed") is None:
        raise UsageError("--backend dask needs Dask, which is not installed: "
                         "pip install 'echo-bench[dask]' (from a clone: pip install -e '.[dask]')")
    if (options.max_seeds or options.round) and not options.until_decided:
        raise UsageError("--max-seeds and --round need --until-decided")
    check_engine(options.engine, options.chunk)
    experiments = only_variants(declared, list(options.variants)) if options.variants else declared
    if options.overrides:
        grid = override_grid(list(options.overrides))
        gridded = [e.name for e in experiments if e.rates]
        if gridded and any("learning_rate" in changes for changes in grid):
            raise UsageError(f"--set learning_rate: {', '.join(gridded)} already runs every "
                             "variant at each rate of its grid (see `bench list`)")
        try:
            experiments = [e.with_overrides(grid) for e in experiments]
        except ValueError as error:
            raise UsageError(f"--set: {error}") from None
    if options.rates is not None:
        gridded = [e for e in experiments if e.rates]
        if not gridded:
            names = [e.name for e in experiments]
            raise UsageError(f"--rates: {', '.join(names)} {'runs' if len(names) == 1 else 'run'} "
                             "each variant at its own rate (no rate grid)")
        for experiment in gridded:
            outside = [r for r in options.rates if r not in experiment.rates]
            if outside:
                raise UsageError(f"--rates: {outside[0]:g} is not among {experiment.name}'s "
                                 f"rates {', '.join(f'{r:g}' for r in experiment.rates)}")
    experiments = [e.over_rates(options.rates) for e in experiments]
    check_cells(experiments)
    return experiments


def check_cells(experiments) -> None:
    """A cell given as package.module:Name must be usable here, as its workers will use it
    (`echo.cells.usable`), and build with each variant it is given to; a variant it cannot run
    (state it cannot carry, a head it cannot feed) or a model it cannot be built into is
    refused before anything trains, all such in one line."""
    given = {}
    for experiment in experiments:
        for variant, setup in experiment.variants.items():
            if user_cell(setup.cell):
                given.setdefault(setup.cell, []).append((f"{experiment.name}/{variant}", setup))
    if not given:
        return  # Keras's own cells: nothing to check, and no Keras to import here
    # Late: Keras, loaded in this process only to check a user's cell.
    from echo.cells import CellError, usable
    from echo.models import check_builds

    for cell, variants in sorted(given.items()):
        try:
            layer = usable(cell)
            refused = {}
            for name, setup in variants:
                spec = setup.model_spec()
                why = layer.refuses(spec.stateful, spec.head)
                if why:
                    refused.setdefault(why, []).append(name)
            if refused:
                why, names = next(iter(refused.items()))
                others = sum(len(n) for n in refused.values()) - len(names)
                raise UsageError(f"cell {cell!r} {why}: {', '.join(names)}"
                                 + (f" (and {others} more variants for other reasons)" if others
                                    else "") + "; leave them out with --variants")
            for spec in dict.fromkeys(setup.model_spec() for _, setup in variants):
                check_builds(spec)  # each model it is given to, not only the first
        except CellError as error:
            raise UsageError(str(error)) from None


def check_compile_cache() -> None:
    """Say in one line, before anything trains, that the compile cache cannot be used (and turn
    it off for the workers, which then compile as without one)."""
    where = compile_cache.folder()
    problem = where and compile_cache.problem(where)
    if problem:
        _say(f"compile cache in {where} cannot be used ({problem}); compiling as without one "
             f"(set {compile_cache.VARIABLE} to another folder, or to off)")
        os.environ[compile_cache.VARIABLE] = compile_cache.OFF


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)
