"""`bench speed`: the tutorial's loop, the per-seed engine and the vectorized engine on the
same work, measured in one run.

Each engine trains `seeds` seeds of an experiment's baseline for its epochs, scores them on
held-out sequences, and is timed from a fresh pool of workers to the last result, worker
start and compilation included, nothing written. The tutorial's loop (one `model.fit` per
epoch, TensorFlow when installed, as the tutorial ran) is too slow for that much work: it
is timed over `tutorial_epochs` epochs of one seed and counted per seed-epoch.
"""

import importlib.util
import time
from dataclasses import dataclass

from bench.runner import run_tasks, stop_workers
from bench.tasks import Task
from bench.timing import TutorialLoop

@dataclass(frozen=True)
class Speed:
    """One engine's measurement: what it ran, in how long."""

    engine: str
    seeds: int
    epochs: int
    seconds: float
    note: str = ""

    @property
    def ms_per_seed_epoch(self) -> float:
        return 1000 * self.seconds / (self.seeds * self.epochs)

    @property
    def seed_epochs_per_second(self) -> float:
        return self.seeds * self.epochs / self.seconds


def measure(experiment, engines, seeds: int, jobs: int, chunk: int | None = None,
            tutorial_epochs: int = 30, epochs: int | None = None) -> list[Speed]:
    """Time each engine in `engines` on `seeds` seeds of the experiment's baseline."""
    setup = experiment.baseline_setup
    if epochs is not None:
        setup = setup.replace(epochs=epochs)
    tasks = [Task(experiment.name, experiment.baseline, seed, setup) for seed in range(seeds)]
    speeds = []
    for engine in engines:
        if engine == "tutorial":
            speeds.append(_tutorial(experiment, tutorial_epochs))
            continue
        start = time.perf_counter()
        outcomes = list(run_tasks(tasks, jobs, progress=False, engine=engine, chunk=chunk))
        seconds = time.perf_counter() - start
        failed = [o.error for o in outcomes if o.error]
        if failed:
            raise RuntimeError(f"the {engine} engine failed: {failed[0]}")
        stop_workers(jobs)  # the next engine starts from a fresh pool too
        speeds.append(Speed(engine, seeds, setup.epochs, seconds, f"{jobs} workers"))
    return speeds


def _tutorial(experiment, epochs: int) -> Speed:
    backend = "tensorflow" if importlib.util.find_spec("tensorflow") else "jax"
    loop = TutorialLoop(backend, epochs=epochs, setup=experiment.baseline_setup)
    try:
        loop.epoch()  # the first fit builds Keras's train function: not a typical epoch
        start = time.perf_counter()
        for _ in range(epochs):
            loop.epoch()
        seconds = time.perf_counter() - start
    finally:
        loop.close()
    return Speed("tutorial", 1, epochs, seconds, f"{backend}, one process, {epochs} epochs of seed 0")


def table(speeds: list[Speed]) -> list[str]:
    """The measurements as a markdown table, with each engine's speed-up over the tutorial's."""
    reference = next((s for s in speeds if s.engine == "tutorial"), None)
    lines = ["| engine | work | wall s | ms per seed-epoch | seed-epochs per s | vs tutorial |",
             "|---|---|---|---|---|---|"]
    for s in speeds:
        ratio = f"{reference.ms_per_seed_epoch / s.ms_per_seed_epoch:.1f}x" if reference else "-"
        lines.append(f"| {s.engine} | {s.seeds} seeds x {s.epochs} epochs ({s.note}) | "
                     f"{s.seconds:.1f} | {s.ms_per_seed_epoch:.3f} | "
                     f"{s.seed_epochs_per_second:,.0f} | {ratio} |")
    return lines
