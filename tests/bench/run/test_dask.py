"""The same seeds give the same numbers on loky and on a Dask LocalCluster."""

import pandas as pd
import pytest

from helpers import bench

pytestmark = pytest.mark.slow

RUN = ["run", "echo-current", "beginners-mistake", "--seeds", "2", "--epochs", "20", "--quiet"]


def test_dask_local_cluster_matches_loky(tmp_path):
    loky = bench(*RUN, "--jobs", "2", "--results", str(tmp_path / "loky"))
    dask = bench(*RUN, "--jobs", "2", "--backend", "dask", "--results", str(tmp_path / "dask"))
    assert loky.returncode == 0, loky.stderr
    assert dask.returncode == 0, dask.stderr
    for name in ("echo-current", "beginners-mistake"):
        a, b = (pd.read_csv(tmp_path / d / name / "curves.csv") for d in ("loky", "dask"))
        pd.testing.assert_frame_equal(a, b)
        columns = ["variant", "seed", "eval_accuracy", "final_loss", "settings_hash"]
        a, b = (pd.read_csv(tmp_path / d / name / "runs.csv")[columns] for d in ("loky", "dask"))
        pd.testing.assert_frame_equal(a, b)


def test_scheduler_needs_the_dask_backend():
    done = bench("run", "echo-lag", "--scheduler", "tcp://127.0.0.1:8786")
    assert done.returncode == 2 and "--scheduler needs --backend dask" in done.stderr


def test_a_local_cluster_for_gpus_has_one_worker_pinned_to_each():
    from distributed import default_client

    from bench.run.cluster import dask_executor
    from bench.run.runner import worker_environment

    with dask_executor(4, None, worker_environment, ["0", "1"]) as (_, slots):
        seen = default_client().run(lambda: __import__("os").environ.get("CUDA_VISIBLE_DEVICES"))
    assert slots == 2 and sorted(seen.values()) == ["0", "1"]


@pytest.mark.parametrize("visible, gpus", [("2,3", ["2", "3"]), ("-1", []), ("", [])])
def test_visible_gpus_follow_cuda_visible_devices(monkeypatch, visible, gpus):
    from bench.run.cluster import visible_gpus

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert visible_gpus() == gpus
