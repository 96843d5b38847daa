"""Run tasks in parallel worker processes (joblib's loky), with a progress bar.

Workers get settings and seeds, never models, and send back plain records;
this process loads Keras only to check a user's cell (`bench.cli.launch.check_cells`).
Work goes out in chunks: one task each for the per-seed engine, several seeds of
one variant for the vectorized engine (`echo.vectorized`), sized for the device
by a worker that looks at it first.
A chunk that raises comes back as failures with its message; the rest go on.
A worker that dies breaks the pool: the chunks that were running then are
rerun one at a time in a fresh worker, so only the chunk that kills its worker
is recorded as failed.
"""

import functools
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass

from joblib.externals.loky import ProcessPoolExecutor, get_reusable_executor
from joblib.externals.loky.process_executor import BrokenProcessPool
from tqdm import tqdm

from bench.run import compile_cache
from bench.run.cluster import dask_executor, visible_gpus
from bench.run.tasks import Task
from echo.errors import one_line
from echo.setup import Setup
from experiments import load_user_paths

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


@dataclass(frozen=True)
class Outcome:
    """A finished task: its Run, or the one-line error that stopped it."""

    task: Task
    result: object = None
    error: str | None = None


@dataclass(frozen=True)
class Chunk:
    """What one worker call runs: a task (per-seed engine), or seeds of variants that differ at
    most in the learning rate trained together (vectorized engine), padded to `size` so a
    variant's chunks share a compilation."""

    tasks: tuple[Task, ...]
    engine: str = "per-seed"
    size: int = 1


def run_chunk(chunk: Chunk) -> list[Outcome]:
    """Run a chunk in this process: its tasks one by one, or its seeds at once, its programs
    kept in the compile cache."""
    compile_cache.install()
    problem = _user_modules()
    if problem:
        return [Outcome(task, error=problem) for task in chunk.tasks]
    if chunk.engine == "per-seed":
        return [run_task(task) for task in chunk.tasks]
    # Late (as every echo import below): Keras and JAX load in workers only, never in the command.
    from echo.vectorized import run_seeds

    try:
        runs = run_seeds(chunk.tasks[0].setup, [t.seed for t in chunk.tasks], chunk.size,
                         [t.setup.learning_rate for t in chunk.tasks])
    except Exception as error:  # noqa: BLE001  (the chunk's failure is recorded, not fatal)
        return [Outcome(task, error=one_line(error)) for task in chunk.tasks]
    return [Outcome(task, run) for task, run in zip(chunk.tasks, runs)]


@functools.cache
def _user_modules() -> str | None:
    """Import, once per worker, the user's modules its command loaded (they may add framings);
    why they cannot be imported here, as each of its runs' error, or None."""
    try:
        load_user_paths()
    except ValueError as error:
        return f"in a worker: {error}"
    return None


def plan_chunks(setups: list) -> tuple[object, list[int]]:
    """In a worker: the device it runs on, and the seeds per chunk for each setup there."""
    # Late: Keras and JAX, in workers only.
    from echo.vectorized import chunk_size, device

    where = device()
    return where, [chunk_size(setup, where) for setup in setups]


def make_chunks(tasks: list[Task], engine: str, sizes: dict | None = None) -> list[Chunk]:
    """One chunk per task, or the seeds of variants alike but for the learning rate (a tuning
    grid's) cut into chunks of the first one's size (sizes by (experiment, variant)), in order."""
    if engine == "per-seed":
        return [Chunk((task,)) for task in tasks]
    alike: dict[Setup, list[Task]] = {}
    for task in tasks:
        alike.setdefault(task.setup.replace(learning_rate=Setup.learning_rate), []).append(task)
    chunks = []
    for group in alike.values():
        size = min(sizes[group[0].experiment, group[0].variant], len(group))
        chunks += [Chunk(tuple(group[i:i + size]), engine, size)
                   for i in range(0, len(group), size)]
    return chunks


def run_task(task: Task) -> Outcome:
    """Run one task in this process; import here so workers load Keras themselves."""
    # Late: Keras and JAX, in workers only.
    from echo.protocol import run

    try:
        return Outcome(task, run(task.setup, task.seed))
    except Exception as error:  # noqa: BLE001  (any failure of one run is recorded, not fatal)
        return Outcome(task, error=one_line(error))


def worker_environment(threads: int) -> dict[str, str]:
    """Cap every thread pool a worker may use (BLAS, TensorFlow, XLA) at `threads`; on a GPU,
    let JAX take memory as it needs it rather than most of the device at start, so that
    several per-seed workers can share one."""
    env = {name: str(threads) for name in THREAD_VARIABLES}
    env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    xla = os.environ.get("XLA_FLAGS", "")
    if threads == 1 and "multi_thread_eigen" not in xla:
        xla = f"{xla} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1".strip()
    env["XLA_FLAGS"] = xla
    return env


def run_tasks(tasks: list[Task], jobs: int, progress: bool = True, backend: str = "loky",
              scheduler: str | None = None, engine: str = "per-seed",
              chunk: int | None = None) -> Iterator[list[Outcome]]:
    """Yield the Outcomes of each chunk of tasks as it finishes, in worker processes (never
    this one): `jobs` loky workers, or a Dask cluster (at `scheduler`, else a LocalCluster of `jobs`).
    The vectorized engine trains `chunk` seeds per call (default: what fits the device)."""
    try:
        yield from _run(tasks, jobs, progress, backend, scheduler, engine, chunk)
    except PlanError as error:
        yield [Outcome(task, error=str(error)) for task in tasks]


class PlanError(Exception):
    """The vectorized engine's chunks could not be sized: every task fails with this."""


def _run(tasks, jobs, progress, backend, scheduler, engine, chunk):
    if backend == "dask":
        gpus = visible_gpus() if engine == "vectorized" and scheduler is None else []
        with dask_executor(jobs, scheduler, worker_environment, gpus) as (executor, slots):
            chunks = _chunks(tasks, engine, chunk, executor, slots)[0]
            yield from _drive(chunks, lambda: executor, slots, progress, isolate=False)
        return
    cores = os.cpu_count() or 1
    os.environ.update(worker_environment(max(1, cores // jobs)))
    executor = _loky(jobs)
    chunks, where = _chunks(tasks, engine, chunk, executor, jobs)
    if where is not None and where.platform != "cpu":
        jobs = min(jobs, where.count)  # one worker per accelerator
        executor.shutdown(wait=True, kill_workers=True)
    yield from _drive(chunks, lambda: _loky(jobs), jobs, progress, isolate=True)


def _loky(jobs: int):
    return get_reusable_executor(max_workers=jobs, timeout=600, initializer=start_worker)


def stop_workers(jobs: int) -> None:
    """Stop the loky workers `run_tasks(..., jobs)` left running, so the next run starts afresh."""
    _loky(jobs).shutdown(wait=True, kill_workers=True)


def start_worker() -> None:
    """In a loky worker: leave Ctrl-C to the command (which stops its workers, so none prints a
    traceback), die with it and keep compiled programs."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the command stops its workers on Ctrl-C
    die_with_parent()
    keep_compiled_programs()


def die_with_parent(every: float = 0.5) -> None:
    """In a worker process: exit as soon as the process that started it is gone (even killed
    with SIGKILL, which leaves it no chance to stop its workers), instead of training on as
    an orphan. The check runs in a daemon thread; compiled JAX calls release the GIL."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def keep_compiled_programs() -> None:
    """In a loky worker: allow it WORKER_MEMORY bytes of growth before loky restarts it.

    loky takes a worker that grew 300 MB since its first task for a leak and replaces
    it; a worker's compiled programs (bounded by echo.training.PROGRAMS_KEPT) and
    JAX's buffers grow that much, and each restart cost an import and a compilation
    (measured: a third of the vectorized engine's time for 32 seeds of echo-lag).
    """
    # Late: Keras and JAX, in workers only.
    from echo.compat import allow_worker_growth

    allow_worker_growth(WORKER_MEMORY)


WORKER_MEMORY = 2 * 1024**3


def _chunks(tasks, engine, chunk, executor, slots):
    """The chunks to run, and the device a worker reported (None for the per-seed engine)."""
    if engine == "per-seed" or not tasks:
        return make_chunks(tasks, "per-seed"), None
    variants = {(t.experiment, t.variant): t.setup for t in tasks}
    setups = list(variants.values())
    # The other workers warm up meanwhile (imports, a first model), instead of waiting idle.
    warming = [executor.submit(plan_chunks, setups[:1]) for _ in range(slots - 1)]
    try:
        where, sizes = executor.submit(plan_chunks, setups).result()
        wait(warming)
    except Exception as error:  # noqa: BLE001  (reported for every task, as one line)
        raise PlanError(f"could not size the vectorized engine's chunks: {one_line(error)}") from None
    sizes = dict(zip(variants, [chunk or size for size in sizes]))
    return make_chunks(tasks, engine, sizes), where


def _drive(chunks: list[Chunk], start_executor, slots: int, progress: bool, isolate: bool):
    """Keep `slots` chunks in flight; on a broken loky pool, rerun the chunks it held one by one."""
    pending = list(reversed(chunks))
    executor = start_executor()
    running = {}
    total = sum(len(c.tasks) for c in chunks)
    with tqdm(total=total, desc="runs", unit="run", disable=not progress) as bar:
        try:
            while pending or running:
                while pending and len(running) < slots:
                    chunk = pending.pop()
                    running[executor.submit(run_chunk, chunk)] = chunk
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                if isolate and any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                    suspects = list(running.values())
                    running.clear()
                    executor.shutdown(wait=True, kill_workers=True)
                    executor = start_executor()
                    for chunk in suspects:
                        bar.update(len(chunk.tasks))
                        yield _isolated(chunk)
                    continue
                for future in done:
                    chunk = running.pop(future)
                    bar.update(len(chunk.tasks))
                    yield _outcomes(future, chunk)
        except BaseException:
            for future in running:
                future.cancel()
            if isolate:
                executor.shutdown(wait=False, kill_workers=True)
            raise


def _outcomes(future, chunk: Chunk) -> list[Outcome]:
    """The chunk's Outcomes; a future that failed outside the tasks (its worker died) fails them."""
    error = future.exception()
    if error is None:
        return future.result()
    reason = " ".join(str(error).split())[:300]
    died = type(error).__name__ in ("KilledWorker", "TerminatedWorkerError")
    message = (f"{'worker died' if died else 'could not run'}: "
               f"{type(error).__name__}: {reason}")
    return [Outcome(task, error=message) for task in chunk.tasks]


def _isolated(chunk: Chunk) -> list[Outcome]:
    """Run a chunk alone in a fresh worker: if that worker dies, it was this chunk."""
    with ProcessPoolExecutor(max_workers=1, initializer=start_worker) as executor:
        try:
            return executor.submit(run_chunk, chunk).result()
        except BrokenProcessPool as error:
            reason = str(error).split("\n")[0][:300]
            return [Outcome(task, error=f"worker died: {reason}") for task in chunk.tasks]
