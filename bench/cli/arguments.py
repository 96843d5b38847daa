"""What a command was given, checked before anything trains or is written: option values,
experiment and variant names, `--set` sweeps, engines, sizes and directories. Each refusal is
a UsageError: one line and exit status 2."""

import argparse
import dataclasses
import difflib
import itertools
import json
import os
from pathlib import Path

from bench.run import cluster
from echo.experiment import Experiment
from echo.setup import LARGEST, Setup, machine_memory
from experiments import USER_PATHS, Registry, discover, load_path

MAX_RUNS = 1_000_000  # runs one command may ask for


class UsageError(Exception):
    """Bad input: reported as one line and exit status 2."""


def learning_rates(text: str) -> tuple[float, ...]:
    """`--rates`: comma-separated learning rates, each in (0, 1]."""
    try:
        rates = tuple(float(r) for r in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected learning rates such as 0.001,0.003, got "
                                         f"{text!r}") from None
    if not all(0 < r <= 1 for r in rates):
        raise argparse.ArgumentTypeError(f"learning rates lie in (0, 1], got {text!r}")
    return rates


def positive_int(text: str) -> int:
    """An integer option's value: at least 1 and at most what every backend's int32 holds."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if not 1 <= value <= LARGEST:
        raise argparse.ArgumentTypeError(f"expected a positive integer up to {LARGEST:,}, "
                                         f"got {value:,}")
    return value


def positive_float(text: str) -> float:
    """A number option's value: above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value:g}")
    return value


def select(registry: Registry, names: list[str]) -> list[Experiment]:
    """The experiments named on the command line ('all' for every one)."""
    if names == ["all"]:
        return registry.values()
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise UsageError(f"unknown experiment {unknown[0]!r}{did_you_mean(unknown[0], registry)}"
                         f"; choose from {', '.join(registry)} or all")
    return [registry[name] for name in dict.fromkeys(names)]


def did_you_mean(name: str, choices) -> str:
    """' (did you mean X?)' for the closest of `choices`, or nothing."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def only_variants(experiments, variants: list[str]):
    """The experiments cut down to the named variants (each must belong to one of them)."""
    known = {v for e in experiments for v in e.variants}
    unknown = [v for v in variants if v not in known]
    if unknown:
        raise UsageError(f"unknown variant {unknown[0]!r}{did_you_mean(unknown[0], known)} for "
                         f"{', '.join(e.name for e in experiments)}; choose from {', '.join(sorted(known))}")
    kept = []
    for experiment in experiments:
        chosen = {v: s for v, s in experiment.variants.items() if v in variants}
        if chosen:
            baseline = experiment.baseline if experiment.baseline in chosen else next(iter(chosen))
            kept.append(dataclasses.replace(experiment, variants=chosen, baseline=baseline,
                                            contrasts=experiment.contrasts_among(chosen)))
    return kept


def override_grid(overrides: list[str]) -> list[dict]:
    """`--set key=v1,v2 ...` -> every combination of the values, as dicts of typed settings."""
    axes = []
    for override in overrides:
        key, equals, values = override.partition("=")
        if not equals or not values:
            raise UsageError(f"--set {override}: expected KEY=VALUE or KEY=V1,V2")
        try:
            axes.append([(key, Setup.parse(key, value)) for value in values.split(",")])
        except KeyError:
            fields = [f.name for f in dataclasses.fields(Setup)]
            raise UsageError(f"--set: unknown setting {key!r}{did_you_mean(key, fields)}; "
                             f"choose from {', '.join(fields)}") from None
        except ValueError as error:
            raise UsageError(f"--set: {error}") from None
    keys = [axis[0][0] for axis in axes]
    if len(set(keys)) < len(keys):
        raise UsageError("--set: each setting once (a sweep lists its values: units=25,50)")
    return [dict(combination) for combination in itertools.product(*axes)]


def chosen_engine(engine: str) -> str:
    """The engine `auto` stands for: vectorized where JAX can use a GPU here, else per-seed,
    which trains faster on a CPU (docs/performance.md, *Speed*) and is the reference. Any other engine as
    given."""
    if engine != "auto":
        return engine

    jax = os.environ.get("KERAS_BACKEND", "jax") == "jax"
    return "vectorized" if jax and cluster.visible_gpus() else "per-seed"


def check_engine(engine: str, chunk: int | None) -> None:
    """The vectorized engine maps JAX programs over seeds: refuse it on another backend."""
    if chunk is not None and engine != "vectorized":
        raise UsageError("--chunk needs --engine vectorized")
    backend = os.environ.get("KERAS_BACKEND", "jax")
    if engine == "vectorized" and backend != "jax":
        raise UsageError(f"--engine vectorized needs the JAX backend, not KERAS_BACKEND={backend}")


def check_sizes(experiments, seeds: int, epochs: int | None) -> None:
    """Refuse, before anything starts, a command no machine here could hold."""
    runs = seeds * sum(len(e.variants) for e in experiments)
    if runs > MAX_RUNS:
        raise UsageError(f"{runs:,} runs asked for, more than {MAX_RUNS:,} in one command; "
                         "ask for fewer seeds or experiments")
    memory = machine_memory()
    for experiment in experiments:
        for variant, setup in experiment.variants.items():
            needed = setup.replace(epochs=epochs or setup.epochs).data_bytes()
            if needed > memory:
                raise UsageError(f"one run of {experiment.name} / {variant} needs at least "
                                 f"{needed / 2**30:,.0f} GiB for its sequences, more than this "
                                 f"machine's {memory / 2**30:.0f} GiB; ask for fewer epochs")


def check_results_path(directory: Path) -> None:
    """A results directory that is there (made if need be) and writable."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"results path {directory} is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create results directory {directory}: {error.strerror}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"results directory {directory} is not writable")


def results_directories(*directories: Path) -> None:
    """Refuse, in one line, a results directory that is not there."""
    for directory in directories:
        if not directory.is_dir():
            raise UsageError(f"no results directory {directory}/")


def registry_of(paths: list[Path] | None) -> tuple[Registry, dict[str, Path]]:
    """The experiments a command knows: the declared ones and those of a user's modules at
    `paths` (passed on to the workers, which then know any framing those modules add); and the
    path each of the user's came from."""
    registry, origins = discover(), {}
    for path in paths or ():
        try:
            experiments = load_path(path)
            registry = registry.adding(experiments, str(path))
        except ValueError as error:
            raise UsageError(str(error)) from None
        origins.update({e.name: path for e in experiments})
    if paths:
        os.environ[USER_PATHS] = json.dumps([str(p.resolve()) for p in paths])
    return registry, origins


def own_results(path: Path) -> Path:
    """Where a user's experiments from `path` keep their results unless told otherwise: in the
    folder (PATH/results), or beside the module file (NAME-results), never in the suite's."""
    return path / "results" if path.is_dir() else path.parent / f"{path.stem}-results"


def results_for(names: list[str], registry: Registry, origins: dict[str, Path], suite: Path
                ) -> Path:
    """The results folder of a command given no --results: the suite's (`suite`) for its own
    experiments, a user's own folder for theirs (`origins`: each one's path); a UsageError
    where the named experiments keep their results in different folders. Named 'all', every
    experiment `registry` knows; named none (`report`), the user's, else the suite's."""
    if "all" in names:
        names = [n for n in names if n != "all"] or list(registry)
    names = names or list(origins) or list(registry)
    folders = {own_results(origins[n]) if n in origins else suite for n in names}
    if len(folders) > 1:
        raise UsageError(f"{', '.join(names)} keep their results apart ("
                         f"{', '.join(f'{f}/' for f in sorted(map(str, folders)))}); run them "
                         "apart, or give one --results")
    return folders.pop()
