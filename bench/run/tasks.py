"""Tasks: every (experiment, variant, seed) with the settings it runs under."""

from dataclasses import dataclass

from echo.setup import Setup


@dataclass(frozen=True)
class Task:
    """One independent run: all a worker needs, and nothing heavier than settings."""

    experiment: str
    variant: str
    seed: int
    setup: Setup


def make_tasks(experiments, seeds: int, epochs: int | None = None) -> list[Task]:
    """Every variant of every experiment for seeds 0..seeds-1, epochs overridden if given."""
    tasks = []
    for experiment in experiments:
        for variant, setup in experiment.variants.items():
            if epochs is not None:
                setup = setup.replace(epochs=epochs)
            tasks += [Task(experiment.name, variant, seed, setup) for seed in range(seeds)]
    return tasks
