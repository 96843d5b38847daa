"""The experiments, registered explicitly: this package's modules in the order MODULES gives
(the tutorial's parts first, the order `bench list` and the reports follow), then those
installed packages declare under the entry-point group `echo_bench.experiments`, then a user's
own modules loaded from a path (`bench ... --experiments PATH`). `discover` returns them as a
`Registry`, which a command passes to whatever needs an experiment by name.
"""

import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import MappingProxyType

from echo.errors import one_line
from echo.experiment import Experiment

ENTRY_POINTS = "echo_bench.experiments"
USER_PATHS = "ECHO_BENCH_EXPERIMENTS"  # a command's --experiments paths, for its workers to load
# This package's modules, in the order of `bench list` and the reports (the tutorial's parts,
# then its extensions; state-window after the lag grid, whose answer it qualifies).
MODULES = ("echo_current", "beginners_mistake", "echo_lag", "ignore_state", "masking",
           "full_sequence", "lag", "state_window", "lag_sequence", "cell_type",
           "mistake_diagnostics", "capacity", "delay_line", "long_lag")


@dataclass(frozen=True)
class Registry:
    """The experiments a command knows, by name, in order; never changed once made (`adding`
    gives a new one)."""

    experiments: Mapping[str, Experiment]

    def __iter__(self) -> Iterator[str]:
        return iter(self.experiments)

    def __contains__(self, name: str) -> bool:
        return name in self.experiments

    def __getitem__(self, name: str) -> Experiment:
        return self.experiments[name]

    def get(self, name: str) -> Experiment | None:
        """The experiment of that name, or None (results of one no longer declared)."""
        return self.experiments.get(name)

    def values(self) -> list[Experiment]:
        return list(self.experiments.values())

    def items(self) -> list[tuple[str, Experiment]]:
        return list(self.experiments.items())

    def adding(self, experiments: Iterable[Experiment], origin: str) -> "Registry":
        """This registry and `experiments` (from `origin`); a ValueError where a name is taken."""
        found = dict(self.experiments)
        for experiment in experiments:
            if experiment.name in found and found[experiment.name] is not experiment:
                raise ValueError(f"experiment {experiment.name!r} from {origin} has the name of "
                                 "another experiment; rename it")
            found[experiment.name] = experiment
        return Registry(MappingProxyType(found))


EMPTY = Registry(MappingProxyType({}))


def declared(source) -> list[Experiment]:
    """The experiments an object declares: itself, or a module's EXPERIMENT or EXPERIMENTS."""
    if isinstance(source, Experiment):
        return [source]
    found = [getattr(source, "EXPERIMENT", None), *getattr(source, "EXPERIMENTS", ())]
    return [e for e in found if isinstance(e, Experiment)]


def discover() -> Registry:
    """This package's experiments, then those of installed packages' entry points."""
    registry = EMPTY
    for name in MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        registry = registry.adding(declared(module), module.__name__)
    for entry in entry_points(group=ENTRY_POINTS):
        registry = registry.adding(declared(entry.load()), f"entry point {entry.name} ({entry.value})")
    return registry


def load_path(path) -> list[Experiment]:
    """The experiments a user's module file, or every module of a folder, declares (imported
    here); a ValueError (one line) says what is wrong with them."""
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
    return found


def load_user_paths() -> None:
    """In a worker process: import the user's modules its command loaded (they may add
    framings)."""
    for path in json.loads(os.environ.get(USER_PATHS, "[]")):
        load_path(path)
