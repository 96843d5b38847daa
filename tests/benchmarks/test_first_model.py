"""A worker's first model, in a fresh process: echo-lag's template (its trainable weights left for
echo.initial to draw) against the same model with Keras's own draws, whose initializers are JAX
programs compiled once per process. Compared as a ratio of the two, measured in this run."""

import subprocess
import sys

from helpers import ROOT

SCRIPT = """
import sys, time
import jax.numpy as jnp
from echo.models import build_model
from echo.protocol import template_model
from experiments import discover
setup = discover()["echo-lag"].baseline_setup
jnp.zeros(1).block_until_ready()
started = time.perf_counter()
template_model(setup) if sys.argv[1] == "template" else build_model(setup.model_spec())
print(time.perf_counter() - started)
"""


def first_build(kind: str) -> float:
    """Seconds to build the first echo-lag model of a process (JAX started beforehand)."""
    done = subprocess.run([sys.executable, "-c", SCRIPT, kind], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return float(done.stdout.split()[-1])


def test_a_template_is_built_without_compiling_keras_initializers(benchmark, first_model):
    drawn = first_build("drawn")
    template = benchmark.pedantic(first_build, args=("template",), rounds=1)
    benchmark.extra_info.update(drawn_seconds=drawn, template_seconds=template)
    first_model.update(drawn=drawn, template=template)
    assert template <= 0.5 * drawn, (drawn, template)
