"""The experiments, found rather than registered: every module of this package that declares
an EXPERIMENT (in the order its ORDER gives, the tutorial's parts first), then those installed
packages declare under the entry-point group `echo_bench.experiments`, then a user's own
modules loaded from a path (`bench ... --experiments PATH`, `load_path`).
"""

import importlib
import importlib.util
import json
import math
import os
import pkgutil
import sys
from importlib.metadata import entry_points
from pathlib import Path

from echo.errors import one_line
from echo.experiment import Experiment

ENTRY_POINTS = "echo_bench.experiments"
USER_PATHS = "ECHO_BENCH_EXPERIMENTS"  # a command's --experiments paths, for its workers to load


def declared(source) -> list[Experiment]:
    """The experiments an object declares: itself, or a module's EXPERIMENT or EXPERIMENTS."""
    if isinstance(source, Experiment):
        return [source]
    found = [getattr(source, "EXPERIMENT", None), *getattr(source, "EXPERIMENTS", ())]
    return [e for e in found if isinstance(e, Experiment)]


def _add(registry: dict, experiments: list[Experiment], origin: str) -> None:
    for experiment in experiments:
        if experiment.name in registry and registry[experiment.name] is not experiment:
            raise ValueError(f"experiment {experiment.name!r} from {origin} has the name of "
                             "another experiment; rename it")
        registry[experiment.name] = experiment


def discover() -> dict[str, Experiment]:
    """This package's experiments, then those of installed packages' entry points."""
    modules = [importlib.import_module(f"{__name__}.{info.name}")
               for info in pkgutil.iter_modules(__path__)]
    registry: dict[str, Experiment] = {}
    for module in sorted(modules, key=lambda m: getattr(m, "ORDER", math.inf)):
        _add(registry, declared(module), module.__name__)
    for entry in entry_points(group=ENTRY_POINTS):
        _add(registry, declared(entry.load()), f"entry point {entry.name} ({entry.value})")
    return registry


def load_path(path) -> list[Experiment]:
    """Import a user's module file, or every module of a folder, and add the experiments they
    declare to EXPERIMENTS; a ValueError (one line) says what is wrong with them."""
    path = Path(path)
    files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_")) if path.is_dir() \
        else [path]
    if not path.exists() or not files or any(p.suffix != ".py" for p in files):
        raise ValueError(f"--experiments {path}: not a Python module or a folder of them")
    found = []
    for file in files:
        name = f"echo_bench_user.{file.stem}"
        try:
            spec = importlib.util.spec_from_file_location(name, file)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as error:  # noqa: BLE001  (the user's module, one line)
            sys.modules.pop(name, None)
            raise ValueError(f"cannot load experiments from {file}: {one_line(error)}") from None
        if not declared(module):
            raise ValueError(f"{file} declares no experiment (an EXPERIMENT = Experiment(...))")
        found += declared(module)
    _add(EXPERIMENTS, found, str(path))
    return found


def load_user_paths() -> None:
    """In a worker process: load the user's modules its command loaded (they may add framings)."""
    for path in json.loads(os.environ.get(USER_PATHS, "[]")):
        load_path(path)


EXPERIMENTS: dict[str, Experiment] = discover()
