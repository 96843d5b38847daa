"""The command line: `python -m bench list | run | report | speed | compare | scorecard |
abandon`."""

import argparse
import dataclasses
import difflib
import importlib.util
import itertools
import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path

ENGINES = ("per-seed", "vectorized")


class UsageError(Exception):
    """Bad input: reported as one line and exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def positive_int(text: str) -> int:
    """An integer option's value: at least 1 and at most what every backend's int32 holds."""
    from echo.setup import LARGEST

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if not 1 <= value <= LARGEST:
        raise argparse.ArgumentTypeError(f"expected a positive integer up to {LARGEST:,}, "
                                         f"got {value:,}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value:g}")
    return value


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="bench", description="echo-bench: recurrent networks on the echo problem",
                  allow_abbrev=False)
    commands = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    listing = commands.add_parser("list", help="each experiment with its question, variants and "
                                               "defaults", allow_abbrev=False)
    listing.add_argument("names", nargs="*", metavar="NAME", help="only these experiments")
    run = commands.add_parser("run", help="run experiments over many seeds", allow_abbrev=False)
    run.add_argument("names", nargs="+", metavar="NAME", help="experiment names, or 'all'")
    run.add_argument("--variants", nargs="+", metavar="VARIANT",
                     help="run only these variants (of the named experiments)")
    run.add_argument("--seeds", type=positive_int, default=10, help="seeds 0..N-1 (default 10)")
    run.add_argument("--epochs", type=positive_int, help="override every variant's epochs")
    run.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1,
                     help="parallel worker processes (default: all cores)")
    run.add_argument("--results", type=Path, default=Path("results"), help="results directory")
    run.add_argument("--backend", choices=("loky", "dask"), default="loky",
                     help="where tasks run: loky processes here (default) or a Dask cluster")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="with --backend dask: a running scheduler (default: a LocalCluster)")
    run.add_argument("--engine", choices=ENGINES, default="per-seed",
                     help="per-seed: one run per call (default, the reference); vectorized: many "
                          "seeds of a variant as one compiled program (JAX)")
    run.add_argument("--chunk", type=positive_int, metavar="N",
                     help="with --engine vectorized: seeds per call (default: what fits the device)")
    run.add_argument("--curve-every", type=positive_int, metavar="K",
                     help="store each curve as means over blocks of K epochs (default: as the "
                          "results already there do, else 1, every epoch)")
    run.add_argument("--force", action="store_true",
                     help="rerun runs already in the results (replacing them)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--until-decided", action="store_true",
                     help="add rounds of seeds (the same for every variant) until every "
                          "declared contrast and claim is decided, starting from --seeds")
    run.add_argument("--max-seeds", type=positive_int, metavar="N",
                     help="with --until-decided: the most seeds per variant (default 50)")
    run.add_argument("--round", type=positive_int, metavar="K",
                     help="with --until-decided: seeds added per round (default 10)")
    run.add_argument("--tuned", action="store_true",
                     help="train each variant at the learning rate its tuning runs chose (run "
                          "NAME-tuning first): the tuned comparison")
    run.add_argument("--set", action="append", metavar="KEY=VALUES", dest="overrides",
                     help="derive variants with a setting changed, e.g. units=25 (a sweep: "
                          "units=25,50; repeat for more settings); names show the override")
    run.add_argument("--wait", action="store_true",
                     help="if another command is writing the same results, wait for it to end "
                          "(default: refuse at once)")
    speed = commands.add_parser("speed", help="time the tutorial's loop and both engines on the "
                                              "same work (nothing written)", allow_abbrev=False)
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
    compare = commands.add_parser("compare", help="two results directories, run against run "
                                                  "(paired by variant, seed and settings)",
                                  allow_abbrev=False)
    compare.add_argument("a", type=Path, metavar="A", help="results directory (the reference)")
    compare.add_argument("b", type=Path, metavar="B", help="results directory compared with A")
    compare.add_argument("names", nargs="*", metavar="NAME",
                         help="experiments (default: every one in both)")
    compare.add_argument("--tolerance", type=positive_float, metavar="T",
                         help="exit 1 if any seed's held-out accuracy differs by more than T")
    card = commands.add_parser("scorecard", help="one recurrent architecture across the suite, "
                                                 "on one page", allow_abbrev=False)
    card.add_argument("cell", metavar="CELL", help="the cell its runs were made with, as given to "
                                                    "--set cell=CELL")
    card.add_argument("--results", type=Path, default=Path("results"),
                      help="where its runs are (default results/)")
    card.add_argument("--reference", type=Path, default=Path("results"),
                      help="the declared variants' runs to pair with (default results/)")
    card.add_argument("--out", type=Path, metavar="FILE", help="write the page here (default: print it)")
    abandon = commands.add_parser("abandon", help="drop an unfinished --force, keeping the "
                                                  "stored variant as it is", allow_abbrev=False)
    abandon.add_argument("names", nargs="+", metavar="NAME", help="experiments")
    abandon.add_argument("--variants", nargs="+", metavar="VARIANT",
                         help="only these variants' replacements (default: all)")
    abandon.add_argument("--results", type=Path, default=Path("results"), help="results directory")
    report = commands.add_parser("report", help="regenerate reports/ from results/ (no training)",
                                 allow_abbrev=False)
    report.add_argument("names", nargs="*", metavar="NAME", help="experiments (default: all found)")
    report.add_argument("--results", type=Path, default=Path("results"), help="results directory")
    report.add_argument("--out", type=Path,
                        help="reports directory (default: reports/ for results/, else RESULTS/reports)")
    for command in (listing, run, report):
        command.add_argument("--experiments", type=Path, action="append", metavar="PATH",
                             help="also your own experiments: a module file, or a folder of them "
                                  "(repeatable)")
    return top


def load_user_experiments(paths: list[Path] | None) -> None:
    """Add the experiments of a user's modules (and pass the paths on to the workers, which
    then know any framing those modules add)."""
    if not paths:
        return
    import experiments

    for path in paths:
        try:
            experiments.load_path(path)
        except ValueError as error:
            raise UsageError(str(error)) from None
    os.environ[experiments.USER_PATHS] = json.dumps([str(p.resolve()) for p in paths])


def command_report(args) -> int:
    from bench.report import write_reports
    from bench.store import StoreError

    if not args.results.is_dir():
        raise UsageError(f"no results directory {args.results}/ (run `python -m bench run` first)")
    if args.out is None:
        args.out = Path("reports") if args.results == Path("results") else args.results / "reports"
    try:
        written, problems = write_reports(args.results, args.out, args.names or None,
                                          progress=lambda line: print(line, flush=True))
    except StoreError as error:
        raise UsageError(str(error)) from None
    print(f"reports for {', '.join(written)} in {args.out}/ (index: {args.out / 'README.md'})")
    for problem in problems:
        print(f"bench: error: not reported: {problem}", file=sys.stderr)
    return 2 if problems else 0


def results_directories(*directories: Path) -> None:
    """Refuse, in one line, a results directory that is not there."""
    for directory in directories:
        if not directory.is_dir():
            raise UsageError(f"no results directory {directory}/")


def command_compare(args) -> int:
    from bench.compare import compare_directories, table
    from bench.store import StoreError

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


def command_scorecard(args) -> int:
    from bench.scorecard import scorecard
    from bench.store import StoreError

    results_directories(args.results, args.reference)
    try:
        page = "\n".join(scorecard(args.cell, args.results, args.reference)) + "\n"
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


def command_abandon(args) -> int:
    """Drop the named experiments' unfinished replacements and the runs they held back."""
    from bench.store import ExperimentStore, StoreError

    results_directories(args.results)
    for name in dict.fromkeys(args.names):
        if not (args.results / name).is_dir():
            raise UsageError(f"no results for {name!r} in {args.results}/")
        store = ExperimentStore(args.results / name)
        try:
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


def command_speed(args) -> int:
    from bench.speed import measure, phase_table, table, write_json

    if args.name == "all":
        raise UsageError("speed times one experiment's baseline; name one, not all")
    if args.json is not None and not args.json.parent.is_dir():
        raise UsageError(f"no directory {args.json.parent}/ for --json {args.json}")
    experiment = select([args.name])[0]
    check_engine("vectorized" if "vectorized" in args.engines else "per-seed",
                 args.chunk if "vectorized" in args.engines else None)
    engines = list(dict.fromkeys(args.engines))
    try:
        speeds = measure(experiment, engines, args.seeds, args.jobs, args.chunk,
                         args.tutorial_epochs, args.epochs)
    except RuntimeError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    context = {"experiment": experiment.name, "variant": experiment.baseline,
               "cores": os.cpu_count(), "keras_backend": os.environ.get("KERAS_BACKEND", "jax")}
    print(f"{experiment.name} ({experiment.baseline}), {context['cores']} cores, "
          f"Keras backend {context['keras_backend']}:")
    print("\n".join(table(speeds)))
    if phases := phase_table(speeds):
        print("\nWhere the time went (phases summed over seeds):")
        print("\n".join(phases))
    if args.json is not None:
        write_json(speeds, args.json, context)
    return 0


def select(names: list[str]):
    """The experiments named on the command line ('all' for every one)."""
    from experiments import EXPERIMENTS

    if names == ["all"]:
        return list(EXPERIMENTS.values())
    unknown = [name for name in names if name not in EXPERIMENTS]
    if unknown:
        raise UsageError(f"unknown experiment {unknown[0]!r}{_did_you_mean(unknown[0], EXPERIMENTS)}"
                         f"; choose from {', '.join(EXPERIMENTS)} or all")
    return [EXPERIMENTS[name] for name in dict.fromkeys(names)]


def _did_you_mean(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _only_variants(experiments, variants: list[str]):
    """The experiments cut down to the named variants (each must belong to one of them)."""
    known = {v for e in experiments for v in e.variants}
    unknown = [v for v in variants if v not in known]
    if unknown:
        raise UsageError(f"unknown variant {unknown[0]!r}{_did_you_mean(unknown[0], known)} for "
                         f"{', '.join(e.name for e in experiments)}; choose from {', '.join(sorted(known))}")
    kept = []
    for experiment in experiments:
        chosen = {v: s for v, s in experiment.variants.items() if v in variants}
        if chosen:
            baseline = experiment.baseline if experiment.baseline in chosen else next(iter(chosen))
            kept.append(dataclasses.replace(experiment, variants=chosen, baseline=baseline,
                                            contrasts=experiment.contrasts_among(chosen)))
    return kept


def check_cells(experiments) -> None:
    """A cell given as package.module:Name must import here, as its workers will import it, be
    a Keras layer (a recurrent layer, a cell, or any sequence layer) and build with each variant
    it is given to; a variant it cannot run (state it cannot carry, a head it cannot feed) is
    refused before anything trains, all such in one line."""
    given = {}
    for experiment in experiments:
        for variant, setup in experiment.variants.items():
            if ":" in setup.cell:
                given.setdefault(setup.cell, []).append((f"{experiment.name}/{variant}", setup))
    for cell, variants in sorted(given.items()):
        layer = _sequence_layer(cell)
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
                             + (f" (and {others} more variants for other reasons)" if others else "")
                             + "; leave them out with --variants")
        _builds(cell, variants[0][1])


def _sequence_layer(cell: str):
    """What the cell names, or a one-line refusal where it does not import or is no layer."""
    import keras

    from echo.models import sequence_layer

    module, _, name = cell.partition(":")
    try:
        found = getattr(importlib.import_module(module), name)
    except (Exception, SystemExit) as error:  # noqa: BLE001  (the user's module, as one line)
        raise UsageError(f"cell {cell!r} cannot be imported ({type(error).__name__}: "
                         f"{_one_line(error)}); is its package installed or on PYTHONPATH?"
                         ) from None
    if not (isinstance(found, type) and issubclass(found, keras.layers.Layer)):
        raise UsageError(f"cell {cell!r} is not a Keras layer or cell class")
    try:
        return sequence_layer(cell)
    except Exception as error:  # noqa: BLE001  (the user's class, as one line)
        raise UsageError(f"cell {cell!r} cannot be made and called on (batch, time, features) "
                         f"({type(error).__name__}: {_one_line(error)})") from None


def _builds(cell: str, setup) -> None:
    """Refuse, in one line, a layer whose model cannot be built with these settings."""
    from echo.models import build_model

    try:
        build_model(setup.model_spec())
    except Exception as error:  # noqa: BLE001  (the user's class, as one line)
        raise UsageError(f"cell {cell!r} cannot be built into a model with {setup.units} units "
                         f"({type(error).__name__}: {_one_line(error)})") from None


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]


def tuned(experiment, results: Path, overrides: str = ""):
    """The experiment (its variants as `overrides`, the command's --set, made them) at the
    learning rates its tuning runs in `results`, made with the same --set, chose."""
    from bench.store import ExperimentStore, StoreError
    from bench.tuning import rates_chosen
    from echo.experiment import tuning_name
    from experiments import EXPERIMENTS

    budget = EXPERIMENTS.get(tuning_name(experiment.name))
    if budget is None:
        raise UsageError(f"--tuned: {experiment.name} declares no tuning budget")
    directory = results / budget.name
    again = f"`python -m bench run {budget.name} {overrides + ' ' if overrides else ''}--results {results}`"
    if not (directory / "runs.csv").exists():
        raise UsageError(f"--tuned: no tuning runs of {experiment.name} in {results}/; run "
                         f"{again} first")
    try:
        runs = ExperimentStore(directory).load()[0]
    except StoreError as error:
        raise UsageError(str(error)) from None
    chosen = rates_chosen(runs, experiment)
    if chosen is None:
        raise UsageError(f"--tuned: {budget.name} in {results}/ has not run every variant "
                         f"{'so made ' if overrides else ''}at every rate on the same seeds; "
                         f"complete it first ({again})")
    return experiment.at_rates(chosen)


def override_grid(overrides: list[str]) -> list[dict]:
    """`--set key=v1,v2 ...` -> every combination of the values, as dicts of typed settings."""
    from echo.setup import Setup

    axes = []
    for override in overrides:
        key, equals, values = override.partition("=")
        if not equals or not values:
            raise UsageError(f"--set {override}: expected KEY=VALUE or KEY=V1,V2")
        try:
            axes.append([(key, Setup.parse(key, value)) for value in values.split(",")])
        except KeyError:
            fields = [f.name for f in dataclasses.fields(Setup)]
            raise UsageError(f"--set: unknown setting {key!r}{_did_you_mean(key, fields)}; "
                             f"choose from {', '.join(fields)}") from None
        except ValueError as error:
            raise UsageError(f"--set: {error}") from None
    keys = [axis[0][0] for axis in axes]
    if len(set(keys)) < len(keys):
        raise UsageError("--set: each setting once (a sweep lists its values: units=25,50)")
    return [dict(combination) for combination in itertools.product(*axes)]


def command_list(args) -> int:
    for experiment in select(args.names or ["all"]):
        print(f"{experiment.name}\n  question: {experiment.question}")
        if experiment.claim:
            print(f"  tutorial: {experiment.claim}")
        if experiment.notes:
            print(f"  notes: {experiment.notes}")
        for variant, setup in experiment.variants.items():
            mark = " (baseline)" if variant == experiment.baseline else ""
            print(f"  - {variant}{mark}: {setup.describe()}")
    return 0


def command_run(args, argv: list[str]) -> int:
    from bench.cluster import ClusterError
    from bench.plan import Refused
    from bench.sequential import Schedule
    from bench.session import WriteFailed, execute
    from bench.store import ExperimentStore, StoreError

    experiments = declared = select(args.names)
    if args.scheduler and args.backend != "dask":
        raise UsageError("--scheduler needs --backend dask")
    if args.backend == "dask" and importlib.util.find_spec("distributed") is None:
        raise UsageError("--backend dask needs Dask, which is not installed: "
                         "pip install 'echo-bench[dask]' (from a clone: pip install -e '.[dask]')")
    if (args.max_seeds or args.round) and not args.until_decided:
        raise UsageError("--max-seeds and --round need --until-decided")
    check_engine(args.engine, args.chunk)
    if args.variants:
        experiments = _only_variants(experiments, args.variants)
    if args.overrides:
        grid = override_grid(args.overrides)
        if args.tuned and any("learning_rate" in changes for changes in grid):
            raise UsageError("--tuned chooses each variant's learning rate; do not --set it")
        try:
            experiments = [e.with_overrides(grid) for e in experiments]
        except ValueError as error:
            raise UsageError(f"--set: {error}") from None
    if args.tuned:
        if args.until_decided:
            raise UsageError("--tuned does not combine with --until-decided (its stopping rule "
                             "judges the protocol's contrasts); give the seeds with --seeds N")
        experiments = [tuned(e, args.results, " ".join(f"--set {o}" for o in args.overrides or []))
                       for e in experiments]
    check_cells(experiments)
    schedule = None
    if args.until_decided:
        most = args.max_seeds or 50
        schedule = Schedule(min(args.seeds, most), args.round or 10, most)
    check_sizes(experiments, schedule.most if schedule else args.seeds, args.epochs)
    _check_results_path(args.results)
    try:
        with ExitStack() as held:
            stores = {}
            for experiment in sorted(experiments, key=lambda e: e.name):
                store = ExperimentStore(args.results / experiment.name)
                stores[experiment.name] = held.enter_context(store.writer(args.wait, _say))
            if schedule is not None:
                return _until_decided(schedule, experiments, declared, stores, args, argv)
            plan = _plan(experiments, stores, args.seeds, args, args.force)
            return execute(plan, stores, declared, args, argv)
    except (StoreError, Refused, WriteFailed, ClusterError) as error:
        raise UsageError(str(error)) from None


def _plan(experiments, stores, seeds: int, args, force: bool):
    """The tasks of seeds 0..seeds-1, checked against what the stores hold."""
    from bench.plan import Stored, plan_run
    from bench.tasks import make_tasks

    stored = {}
    for experiment in experiments:
        store = stores[experiment.name]
        runs, _, every, pending = store.contents()
        store.errors()  # a damaged errors.csv is refused now, not after training
        stored[experiment.name] = Stored(str(store.directory), dict(zip(
            zip(runs["variant"], runs["seed"]), runs["settings_hash"])), every, pending)
    return plan_run(make_tasks(experiments, seeds, args.epochs), stored, force, args.curve_every)


def _until_decided(schedule, experiments, declared, stores, args, argv) -> int:
    """Add rounds of seeds, the same for every variant, until each experiment's contrasts and
    claim are decided (every look at alpha / looks) or the seeds reach the most allowed."""
    from bench.meta import command_line
    from bench.sequential import open_questions, record
    from bench.session import execute

    command = command_line(argv)
    definitions = {e.name: e for e in declared}
    active = list(experiments)
    for look, target in enumerate(schedule.targets(), 1):
        print(f"round {look} of at most {schedule.looks}: seeds 0..{target - 1} of "
              f"{', '.join(e.name for e in active)} (each look at alpha {schedule.alpha:.3g})")
        chosen = {e.name: stores[e.name] for e in active}
        plan = _plan(active, chosen, target, args, args.force and look == 1)
        status = execute(plan, chosen, [definitions[e.name] for e in active], args, argv)
        if status:
            return status
        for experiment in list(active):
            runs = stores[experiment.name].load()[0]
            # this look's seeds, whatever else is stored
            runs = runs[runs["seed"] < experiment.first_seed + target]
            still = open_questions(runs, definitions[experiment.name], schedule.alpha)
            if still and target < schedule.most:
                print(f"{experiment.name}: undecided after {target} seeds: {', '.join(still)}")
                continue
            seeds = runs["seed"].nunique()
            seeding = record(schedule, seeds, still, command)
            earlier = stores[experiment.name].meta().get("seeding")
            # A rerun that reaches the same record leaves the command that made it.
            if not earlier or {**earlier, "command": command} != seeding:
                stores[experiment.name].annotate({"seeding": seeding})
            print(f"{experiment.name}: {'undecided' if still else 'decided'} with {seeds} seeds"
                  + (f" (the most allowed): {', '.join(still)}" if still else ""))
            active.remove(experiment)
        if not active:
            break
    return 0


MAX_RUNS = 1_000_000  # runs one command may ask for


def check_engine(engine: str, chunk: int | None) -> None:
    """The vectorized engine maps JAX programs over seeds: refuse it on another backend."""
    if chunk is not None and engine != "vectorized":
        raise UsageError("--chunk needs --engine vectorized")
    backend = os.environ.get("KERAS_BACKEND", "jax")
    if engine == "vectorized" and backend != "jax":
        raise UsageError(f"--engine vectorized needs the JAX backend, not KERAS_BACKEND={backend}")


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)


def check_sizes(experiments, seeds: int, epochs: int | None) -> None:
    """Refuse, before anything starts, a command no machine here could hold."""
    runs = seeds * sum(len(e.variants) for e in experiments)
    if runs > MAX_RUNS:
        raise UsageError(f"{runs:,} runs asked for, more than {MAX_RUNS:,} in one command; "
                         "ask for fewer seeds or experiments")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for experiment in experiments:
        for variant, setup in experiment.variants.items():
            needed = setup.replace(epochs=epochs or setup.epochs).data_bytes()
            if needed > memory:
                raise UsageError(f"one run of {experiment.name} / {variant} needs at least "
                                 f"{needed / 2**30:,.0f} GiB for its sequences, more than this "
                                 f"machine's {memory / 2**30:.0f} GiB; ask for fewer epochs")


def _check_results_path(directory: Path) -> None:
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
        load_user_experiments(getattr(args, "experiments", None))
        if args.command == "list":
            return command_list(args)
        if args.command == "report":
            return command_report(args)
        if args.command == "speed":
            return command_speed(args)
        if args.command == "compare":
            return command_compare(args)
        if args.command == "scorecard":
            return command_scorecard(args)
        if args.command == "abandon":
            return command_abandon(args)
        return command_run(args, argv)
    except UsageError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        print("bench: interrupted; finished experiments were written, rerun to complete the rest",
              file=sys.stderr)
        from bench.session import Terminated

        return 143 if isinstance(stop, Terminated) else 130
