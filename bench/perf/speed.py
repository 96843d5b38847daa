"""`bench speed`: the tutorial's loop, the per-seed engine and the vectorized engine on the
same work, measured in one run.

Each engine trains `seeds` seeds of an experiment's baseline for its epochs, scores them on
held-out sequences, and is timed from a fresh pool of workers to the last result, worker
start and compilation included, nothing written: twice, first compiling its programs into a
fresh compile cache (cold), then loading them from it (warm), as a later command does. The
tutorial's loop (one `model.fit` per epoch, TensorFlow when installed, as the tutorial ran) is
too slow for that much work: it is timed over `tutorial_epochs` epochs of one seed and counted
per seed-epoch. Beside each engine's total, its phases (set-up, compile, train, score) summed
over its seeds show where the time went.
"""

import dataclasses
import importlib.util
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass

from bench.perf.tutorial_loop import TutorialLoop
from bench.run import compile_cache
from bench.run.runner import run_tasks, stop_workers
from bench.run.tasks import Task
from echo.records import Phases

PHASES = tuple(field.name for field in dataclasses.fields(Phases))


@dataclass(frozen=True)
class Speed:
    """One engine's measurement: what it ran, in how long, and its seeds' phases summed."""

    engine: str
    seeds: int
    epochs: int
    seconds: float
    note: str = ""
    phases: Phases | None = None

    @property
    def ms_per_seed_epoch(self) -> float:
        return 1000 * self.seconds / (self.seeds * self.epochs)

    @property
    def seed_epochs_per_second(self) -> float:
        return self.seeds * self.epochs / self.seconds

    @property
    def compile_dominates(self) -> bool:
        """Whether compiling took longer than training: then the speed is mostly compilation's."""
        return self.phases is not None and self.phases.compile > self.phases.train


def measure(experiment, engines, seeds: int, jobs: int, chunk: int | None = None,
            tutorial_epochs: int = 30, epochs: int | None = None) -> list[Speed]:
    """Time each engine in `engines` on `seeds` seeds of the experiment's baseline."""
    setup = experiment.baseline_setup
    if epochs is not None:
        setup = setup.replace(epochs=epochs)
    tasks = [Task(experiment.name, experiment.baseline, seed, setup) for seed in range(seeds)]
    speeds = []
    for engine in engines:
        print(f"timing {engine} ...", file=sys.stderr, flush=True)
        if engine == "tutorial":
            speeds.append(_tutorial(experiment, tutorial_epochs))
            continue
        with tempfile.TemporaryDirectory(prefix="echo-bench-speed-") as cache:
            for compiled in ("cold", "warm"):
                speeds.append(_engine(engine, tasks, jobs, chunk, cache, compiled))
    return speeds


def _engine(engine: str, tasks: list, jobs: int, chunk: int | None, cache: str,
            compiled: str) -> Speed:
    """One engine on every task from a fresh pool of workers, its programs kept in `cache`."""
    given = os.environ.get(compile_cache.VARIABLE)
    os.environ[compile_cache.VARIABLE] = cache
    try:
        start = time.perf_counter()
        chunks = run_tasks(tasks, jobs, progress=False, engine=engine, chunk=chunk)
        outcomes = [outcome for finished in chunks for outcome in finished]
        seconds = time.perf_counter() - start
    finally:
        os.environ.pop(compile_cache.VARIABLE)
        if given is not None:
            os.environ[compile_cache.VARIABLE] = given
    failed = [o.error for o in outcomes if o.error]
    if failed:
        raise RuntimeError(f"the {engine} engine failed: {failed[0]}")
    stop_workers(jobs)  # the next measurement starts from a fresh pool too
    summed = Phases(*(sum(getattr(o.result.phases, phase) for o in outcomes) for phase in PHASES))
    loaded = "compiled" if compiled == "cold" else "programs loaded from the compile cache"
    return Speed(engine, len(tasks), tasks[0].setup.epochs, seconds,
                 f"{jobs} workers, {compiled}: {loaded}", summed)


def _tutorial(experiment, epochs: int) -> Speed:
    backend = "tensorflow" if importlib.util.find_spec("tensorflow") else "jax"
    loop = TutorialLoop(experiment.baseline_setup, backend, epochs=epochs)
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


def phase_table(speeds: list[Speed]) -> list[str]:
    """Where each engine's time went: its seeds' phases summed (worker-seconds, which overlap
    when workers run side by side), and set-up and score per seed; then a warning for each
    engine whose compilation took longer than its training."""
    timed = [s for s in speeds if s.phases is not None]
    if not timed:
        return []
    lines = ["| engine | set-up s | compile s | train s | score s | set-up ms per seed "
             "| score ms per seed |", "|---|---|---|---|---|---|---|"]
    for s in timed:
        p = s.phases
        lines.append(f"| {s.engine} | {p.setup:.2f} | {p.compile:.2f} | {p.train:.2f} | "
                     f"{p.score:.2f} | {1000 * p.setup / s.seeds:.2f} | "
                     f"{1000 * p.score / s.seeds:.2f} |")
    for s in timed:
        if s.compile_dominates:
            lines.append(f"\nNote: the {s.engine} engine spent longer compiling ({s.phases.compile:.1f} s) "
                         f"than training ({s.phases.train:.1f} s): at this size its speed measures "
                         "compilation; ask for more epochs or seeds to compare engines.")
    return lines


def write_json(speeds: list[Speed], path, context: dict) -> None:
    """The measurements as JSON, for comparing with a later run."""
    rows = [{**dataclasses.asdict(s), "ms_per_seed_epoch": s.ms_per_seed_epoch,
             "seed_epochs_per_second": s.seed_epochs_per_second} for s in speeds]
    path.write_text(json.dumps({**context, "speeds": rows}, indent=1) + "\n")
