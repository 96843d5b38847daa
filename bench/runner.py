"""Run tasks in parallel with joblib (loky), one process per core, with a progress bar."""

import os
from collections.abc import Iterator

from joblib import Parallel, delayed
from tqdm import tqdm

from bench.tasks import Task

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def run_task(task: Task) -> tuple[Task, object]:
    """Run one task in this process; import here so workers load Keras themselves."""
    from echo.protocol import run

    return task, run(task.setup, task.seed)


def worker_environment(threads: int) -> dict[str, str]:
    """Cap every thread pool a worker may use (BLAS, TensorFlow, XLA) at `threads`."""
    env = {name: str(threads) for name in THREAD_VARIABLES}
    xla = os.environ.get("XLA_FLAGS", "")
    if threads == 1 and "multi_thread_eigen" not in xla:
        xla = f"{xla} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1".strip()
    env["XLA_FLAGS"] = xla
    return env


def run_tasks(tasks: list[Task], jobs: int, progress: bool = True) -> Iterator[tuple[Task, object]]:
    """Yield (task, Run) as tasks finish, `jobs` worker processes at a time."""
    cores = os.cpu_count() or 1
    os.environ.update(worker_environment(max(1, cores // jobs)))
    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
    results = parallel(delayed(run_task)(task) for task in tasks)
    yield from tqdm(results, total=len(tasks), desc="runs", unit="run", disable=not progress)
