"""A command's compilation, cold and warm: the same `bench run` twice in fresh results folders
with a fresh compile cache, the second loading the programs the first compiled. Compared as a
ratio of the two, measured in this run."""

import pandas as pd

from helpers import bench

COMMAND = ["run", "echo-lag", "--seeds", "1", "--jobs", "1", "--epochs", "200", "--quiet"]


def test_a_second_command_loads_what_the_first_compiled(benchmark, tmp_path, compiled):
    env = {"ECHO_BENCH_CACHE": str(tmp_path / "cache")}
    rounds = iter(range(100))

    def command():
        results = tmp_path / f"results-{next(rounds)}"
        done = bench(*COMMAND, "--results", str(results), env=env)
        assert done.returncode == 0, done.stderr
        return float(pd.read_csv(results / "echo-lag" / "runs.csv")["compile_seconds"].iloc[0])

    cold = command()
    warm = benchmark.pedantic(command, rounds=1)
    benchmark.extra_info.update(cold_compile_seconds=cold, warm_compile_seconds=warm)
    compiled.update(cold=cold, warm=warm)
    assert warm <= 0.25 * cold, (cold, warm)
