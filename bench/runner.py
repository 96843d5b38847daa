"""Run tasks in parallel worker processes (joblib's loky), with a progress bar.

Workers get settings and seeds, never models, and send back plain records;
this process never loads Keras. A task that raises comes back as a failure
with its message; the rest go on. A worker that dies breaks the pool: the
tasks that were running then are rerun one at a time in a fresh worker, so
only the task that kills its worker is recorded as failed.
"""

import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass

from joblib.externals.loky import ProcessPoolExecutor, get_reusable_executor
from joblib.externals.loky.process_executor import BrokenProcessPool
from tqdm import tqdm

from bench.tasks import Task

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


@dataclass(frozen=True)
class Outcome:
    """A finished task: its Run, or the one-line error that stopped it."""

    task: Task
    result: object = None
    error: str | None = None


def run_task(task: Task) -> Outcome:
    """Run one task in this process; import here so workers load Keras themselves."""
    from echo.protocol import run

    try:
        return Outcome(task, run(task.setup, task.seed))
    except Exception as error:  # noqa: BLE001  (any failure of one run is recorded, not fatal)
        message = " ".join(str(error).split()) or type(error).__name__
        return Outcome(task, error=f"{type(error).__name__}: {message}"[:500])


def worker_environment(threads: int) -> dict[str, str]:
    """Cap every thread pool a worker may use (BLAS, TensorFlow, XLA) at `threads`."""
    env = {name: str(threads) for name in THREAD_VARIABLES}
    xla = os.environ.get("XLA_FLAGS", "")
    if threads == 1 and "multi_thread_eigen" not in xla:
        xla = f"{xla} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1".strip()
    env["XLA_FLAGS"] = xla
    return env


def run_tasks(tasks: list[Task], jobs: int, progress: bool = True, backend: str = "loky",
              scheduler: str | None = None) -> Iterator[Outcome]:
    """Yield an Outcome per task as tasks finish, in worker processes (never this one):
    `jobs` loky workers, or a Dask cluster (at `scheduler`, else a LocalCluster of `jobs`)."""
    if backend == "dask":
        from bench.cluster import dask_executor

        with dask_executor(jobs, scheduler, worker_environment) as (executor, slots):
            yield from _drive(tasks, lambda: executor, slots, progress, isolate=False)
        return
    cores = os.cpu_count() or 1
    os.environ.update(worker_environment(max(1, cores // jobs)))
    yield from _drive(tasks, lambda: get_reusable_executor(max_workers=jobs, timeout=600), jobs,
                      progress, isolate=True)


def _drive(tasks, start_executor, slots: int, progress: bool, isolate: bool):
    """Keep `slots` tasks in flight; on a broken loky pool, rerun the tasks it held one by one."""
    pending = list(reversed(tasks))
    executor = start_executor()
    running = {}
    with tqdm(total=len(tasks), desc="runs", unit="run", disable=not progress) as bar:
        try:
            while pending or running:
                while pending and len(running) < slots:
                    task = pending.pop()
                    running[executor.submit(run_task, task)] = task
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                if isolate and any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                    suspects = list(running.values())
                    running.clear()
                    executor.shutdown(wait=True, kill_workers=True)
                    executor = start_executor()
                    for task in suspects:
                        bar.update()
                        yield _isolated(task)
                    continue
                for future in done:
                    task = running.pop(future)
                    bar.update()
                    yield _outcome(future, task)
        except BaseException:
            for future in running:
                future.cancel()
            if isolate:
                executor.shutdown(wait=False, kill_workers=True)
            raise


def _outcome(future, task: Task) -> Outcome:
    """The task's Outcome; a future that failed outside the task (its worker died) becomes one."""
    error = future.exception()
    if error is None:
        return future.result()
    reason = " ".join(str(error).split())[:300]
    died = type(error).__name__ in ("KilledWorker", "TerminatedWorkerError")
    return Outcome(task, error=f"{'worker died' if died else 'could not run'}: "
                               f"{type(error).__name__}: {reason}")


def _isolated(task: Task) -> Outcome:
    """Run a task alone in a fresh worker: if that worker dies, it was this task."""
    with ProcessPoolExecutor(max_workers=1) as executor:
        try:
            return executor.submit(run_task, task).result()
        except BrokenProcessPool as error:
            reason = str(error).split("\n")[0][:300]
            return Outcome(task, error=f"worker died: {reason}")
