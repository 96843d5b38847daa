"""Dask: the same tasks on a cluster (a scheduler given by address) or on a LocalCluster.

Tasks go through `Client.get_executor()`, a concurrent.futures executor, so the
runner drives Dask exactly as it drives loky: each task is its own future, and
a worker that dies fails only the task it held (after Dask's own retries).
Workers receive settings and seeds; results come back to this process, which
alone writes results/.
"""

import os
import socket
import subprocess
from collections import Counter
from contextlib import contextmanager


class ClusterError(Exception):
    """The cluster cannot run the tasks: reported as one line."""


def visible_gpus() -> list[str]:
    """The NVIDIA GPUs this machine lets us use (CUDA_VISIBLE_DEVICES, else `nvidia-smi -L`),
    found without loading JAX in this process."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [d.strip() for d in listed.split(",") if d.strip() and d.strip() != "-1"]
    try:
        done = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return []
    lines = done.stdout.splitlines() if done.returncode == 0 else []
    return [str(i) for i, line in enumerate(line for line in lines if line.startswith("GPU "))]


@contextmanager
def dask_executor(jobs: int, scheduler: str | None, environment, gpus: list[str] = ()):
    """Yield (executor, slots): a Dask executor and how many tasks its workers run at once.

    `environment(threads)` gives the variables that cap a worker's thread pools.
    Without a scheduler address a local cluster is started for the run and closed after
    it: `jobs` single-threaded worker processes, or with `gpus` one worker per GPU, each
    seeing only its own (CUDA_VISIBLE_DEVICES), as the vectorized engine wants.
    """
    # Late: Dask is an optional dependency (pip install 'echo-bench[dask]').
    import dask
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        threads = max(1, (os.cpu_count() or 1) // (len(gpus) or jobs))
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environment(threads),
                              "distributed.scheduler.allowed-failures": 0}):
            cluster = (_one_worker_per_gpu(gpus) if gpus else
                       LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                    dashboard_address=None))
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as error:
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    try:
        try:
            slots = _cap_threads(client, environment)
        except Exception as error:  # noqa: BLE001  (the workers' own failure, as one line)
            raise ClusterError(f"the Dask workers cannot run echo-bench ({error!r}); install this "
                               "project in the workers' environment") from None
        yield client.get_executor(pure=False), slots
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _one_worker_per_gpu(gpus: list[str]):
    """A local cluster of one single-threaded worker per GPU, each pinned to its device."""
    # Late: Dask is an optional dependency.
    from distributed import Nanny, Scheduler, SpecCluster

    workers = {f"gpu-{gpu}": {"cls": Nanny, "options": {"nthreads": 1,
                                                         "env": {"CUDA_VISIBLE_DEVICES": gpu}}}
               for gpu in gpus}
    return SpecCluster(workers=workers, scheduler={"cls": Scheduler,
                                                   "options": {"dashboard_address": None}})


def _cap_threads(client, environment) -> int:
    """Give each worker a share of its host's cores; return the task slots of the cluster."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    if not workers:
        raise RuntimeError("the Dask scheduler has no workers")
    hosts = client.run(_host_and_cores)
    busy = Counter()
    for address, (host, _) in hosts.items():
        busy[host] += workers[address]["nthreads"]
    for address, (host, cores) in hosts.items():
        client.run(_set_environment, environment(max(1, cores // busy[host])), workers=[address])
    return sum(w["nthreads"] for w in workers.values())


def _host_and_cores():
    return socket.gethostname(), os.cpu_count() or 1


def _set_environment(variables: dict) -> None:
    os.environ.update(variables)
