"""echo-lag's training program with its one-hot input multiplied out and with the products
gathered (bench.perf.products), for one seed and for seeds mapped over as the vectorized engine does
(on a GPU, also 1024 of them); compared as a ratio of the two, measured in this run. The gathers
are asserted faster on a CPU only: on a GPU this is the measurement that says whether they are."""

import pytest

from bench.perf.products import input_products
from bench.run.cluster import visible_gpus
from experiments.echo_lag import EXPERIMENT

SEEDS = [1, 4] + ([1024] if visible_gpus() else [])


@pytest.mark.parametrize("seeds", SEEDS)
def test_gathered_inputs_against_one_hot_products(benchmark, inputs, seeds):
    timed = benchmark.pedantic(input_products, args=(EXPERIMENT.baseline_setup, seeds), rounds=1)
    inputs[seeds] = timed
    benchmark.extra_info.update({f"{name} ms per seed-epoch": 1000 * seconds
                                 for name, seconds in timed.items()})
    if not visible_gpus():
        assert timed["gathered"] * 1.2 <= timed["one-hot products"], timed
