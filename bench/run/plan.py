"""Planning a `run`: the tasks to train and those already stored, checked against the
results before anything trains. `plan_run` is pure; `planned` reads what the stores hold."""

import dataclasses
from dataclasses import dataclass, field

from bench.run.tasks import Task, make_tasks
from bench.store.schema import grid_conflict, grid_hash, grid_hashes, settings_hash
from echo.experiment import declared_variant


class Refused(Exception):
    """The plan conflicts with the stored results: one line, nothing trained or written."""


@dataclass(frozen=True)
class Stored:
    """What one experiment's results directory holds: each stored run's settings hash by
    (variant, seed), the epochs per curve point (None without runs), the settings hash of
    each run an unfinished replacement (`--force`) holds back, and each stored variant's
    settings but its learning rate (`schema.grid_hash`)."""

    directory: str
    hashes: dict
    curve_every: int | None
    held: dict = field(default_factory=dict)
    grids: dict = field(default_factory=dict)  # each stored variant's settings but the rate


@dataclass(frozen=True)
class Plan:
    """Every task asked for, those to train now, the curves' epochs per point, and with
    `--force` the variants it replaces: (experiment, variant) -> (settings hash, seeds)."""

    tasks: list
    todo: list
    curve_every: int
    replacing: dict = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return len(self.tasks) - len(self.todo)


def plan_run(tasks: list[Task], stored: dict[str, Stored], force: bool = False,
             curve_every: int | None = None) -> Plan:
    """Train what is not stored. With `force`, every variant asked for is replaced: train
    all its seeds but those an unfinished replacement of the same settings already holds (a
    resumed `--force`). Refused: another curve granularity than the stored runs', or a variant
    stored with other settings unless `force` (which then replaces the whole variant)."""
    kept = {s.curve_every for s in stored.values()} - {None}
    every = curve_every if curve_every is not None else kept.pop() if len(kept) == 1 else 1
    for s in stored.values():
        if s.curve_every not in (None, every):
            raise Refused(f"{s.directory} stores curves every {s.curve_every} epochs, not {every}; "
                          f"use --curve-every {s.curve_every}, or another --results directory")
    wanted = {}
    for task in tasks:
        wanted.setdefault((task.experiment, task.variant), settings_hash(task.setup))
    _check_grids(tasks, stored, set(wanted))
    if not force:
        for experiment, s in stored.items():
            for (variant, seed), found in s.hashes.items():
                if wanted.get((experiment, variant), found) != found:
                    raise Refused(f"{s.directory} holds {variant} seed {seed} made with other "
                                  "settings; use another --results directory, or --force to "
                                  "replace the whole variant")
    if force:
        replacing = {}
        for task in tasks:
            key = (task.experiment, task.variant)
            replacing.setdefault(key, (wanted[key], []))[1].append(task.seed)
        held = {(name, *key): found for name, s in stored.items()
                for key, found in s.held.items()}
        todo = [t for t in tasks if held.get((t.experiment, t.variant, t.seed))
                != wanted[t.experiment, t.variant]]
        return Plan(tasks, todo, every, replacing)
    done = {(name, *key) for name, s in stored.items() for key in s.hashes}
    todo = [t for t in tasks if (t.experiment, t.variant, t.seed) not in done]
    return Plan(tasks, todo, every)


def _check_grids(tasks: list[Task], stored: dict[str, Stored], wanted: set) -> None:
    """Refuse a plan after which a variant's runs at its rates would differ in more than the
    rate (say a rate run at other epochs): a grid compares rates, nothing else."""
    grids = {}
    for task in tasks:
        grids.setdefault(task.experiment, {})[task.variant] = grid_hash(dataclasses.asdict(task.setup))
    for experiment, s in stored.items():
        for variant, grid in s.grids.items():
            if (experiment, variant) not in wanted:  # stays as stored
                grids.setdefault(experiment, {})[variant] = grid
    for experiment, found in grids.items():
        conflict = grid_conflict(found)
        if conflict:
            first, other = conflict
            where = stored[experiment].directory if experiment in stored else experiment
            raise Refused(f"{where} would hold {first} and {other} made with other settings than "
                          f"the learning rate; a rate grid varies the rate alone: run all of "
                          f"{declared_variant(first)}'s rates with these settings (leave out "
                          "--rates) with --force, or use another --results directory")


def planned(experiments, stores: dict, seeds: int, options, force: bool) -> Plan:
    """The tasks of each experiment's first `seeds` seeds (at the `options`' epochs and curve
    granularity), checked against what its store (by experiment name) holds."""
    stored = {}
    for experiment in experiments:
        store = stores[experiment.name]
        found = store.contents()
        store.errors()  # a damaged errors.csv is refused now, not after training
        runs = found.runs
        stored[experiment.name] = Stored(str(store.directory), dict(zip(
            zip(runs["variant"], runs["seed"]), runs["settings_hash"])), found.every, found.held,
            grid_hashes(runs))
    return plan_run(make_tasks(experiments, seeds, options.epochs), stored, force,
                    options.curve_every)
