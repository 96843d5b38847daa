import atexit
import os
import shutil
import tempfile

import echo  # noqa: F401  (selects the Keras backend before anything imports keras)

# Compiled programs kept for this session only (its commands share them; none from outside).
os.environ["ECHO_BENCH_CACHE"] = tempfile.mkdtemp(prefix="echo-bench-test-cache-")
atexit.register(shutil.rmtree, os.environ["ECHO_BENCH_CACHE"], ignore_errors=True)

import pytest  # noqa: E402

from helpers import trained  # noqa: E402


@pytest.fixture
def fake_workers(monkeypatch):
    """Workers that train nothing: `fake_workers(failing=seeds)` makes every run of the command
    come back made up (`helpers.trained`), those of `failing` seeds as errors."""
    from bench.run.runner import Outcome

    def install(failing=()):
        def run_tasks(tasks, jobs, **_):
            for task in tasks:
                yield [Outcome(task, error="ValueError: boom") if task.seed in failing
                       else Outcome(task, trained(task))]

        monkeypatch.setattr("bench.run.runner.run_tasks", run_tasks)

    return install
