"""Planning a `run`: the tasks to train and those already stored, checked against the
results before anything trains. Pure: it reads and writes nothing."""

from dataclasses import dataclass

from bench.store import settings_hash
from bench.tasks import Task


class Refused(Exception):
    """The plan conflicts with the stored results: one line, nothing trained or written."""


@dataclass(frozen=True)
class Stored:
    """What one experiment's results directory holds: each stored run's settings hash by
    (variant, seed), and the epochs per curve point (None without runs)."""

    directory: str
    hashes: dict
    curve_every: int | None


@dataclass(frozen=True)
class Plan:
    """Every task asked for, those to train now, and the curves' epochs per point."""

    tasks: list
    todo: list
    curve_every: int

    @property
    def skipped(self) -> int:
        return len(self.tasks) - len(self.todo)


def plan_run(tasks: list[Task], stored: dict[str, Stored], force: bool = False,
             curve_every: int | None = None) -> Plan:
    """Train what is not stored (everything with `force`). Refused: another curve granularity
    than the stored runs', or a variant stored with other settings unless `force` (which then
    replaces the whole variant)."""
    kept = {s.curve_every for s in stored.values()} - {None}
    every = curve_every if curve_every is not None else kept.pop() if len(kept) == 1 else 1
    for s in stored.values():
        if s.curve_every not in (None, every):
            raise Refused(f"{s.directory} stores curves every {s.curve_every} epochs, not {every}; "
                          f"use --curve-every {s.curve_every}, or another --results directory")
    wanted = {}
    for task in tasks:
        wanted.setdefault((task.experiment, task.variant), settings_hash(task.setup))
    if not force:
        for experiment, s in stored.items():
            for (variant, seed), found in s.hashes.items():
                if wanted.get((experiment, variant), found) != found:
                    raise Refused(f"{s.directory} holds {variant} seed {seed} made with other "
                                  "settings; use another --results directory, or --force to "
                                  "replace the whole variant")
    done = {(name, *key) for name, s in stored.items() for key in s.hashes}
    todo = [t for t in tasks if force or (t.experiment, t.variant, t.seed) not in done]
    return Plan(tasks, todo, every)
