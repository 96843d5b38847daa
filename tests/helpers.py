"""What several test modules share: running `python -m bench` as a user does, and the kinds
of model the experiments build."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from echo.records import Curves, Run

ROOT = Path(__file__).resolve().parents[1]


QUICK_KINDS = ("echo-lag", "seq2seq")  # the kinds a quick run checks per kind; CI checks every one


def each_kind(names) -> list:
    """The kinds of model as test parameters, all but QUICK_KINDS marked slow."""
    import pytest

    return [name if name in QUICK_KINDS else pytest.param(name, marks=pytest.mark.slow)
            for name in names]


def model_kinds() -> dict:
    """One setup of every kind of model (and compiled program) the experiments build: stateful
    and unrolled, stateless, state carried across sequences, a Masking layer, masked whole
    history in a loop, a sequence head with missing targets, an encoder-decoder, GRU, SimpleRNN."""
    from experiments import discover

    EXPERIMENTS = discover()

    return {
        "echo-lag": EXPERIMENTS["echo-lag"].baseline_setup,
        "stateless": EXPERIMENTS["ignore-state"].variants["stateless"],
        "stateful-carry": EXPERIMENTS["ignore-state"].variants["stateful-carry"],
        "masked": EXPERIMENTS["masking"].variants["masking-layer"],
        "padded-masked": EXPERIMENTS["full-sequence"].variants["padded-masked"],
        "seq2seq": EXPERIMENTS["lag-sequence"].variants["seq2seq-lag2"],
        "encoder-decoder": EXPERIMENTS["lag-sequence"].variants["encoder-decoder-last3"],
        "gru": EXPERIMENTS["echo-lag"].baseline_setup.replace(cell="gru"),
        "simple-rnn": EXPERIMENTS["echo-lag"].baseline_setup.replace(cell="simple_rnn"),
        "gru-stateless": EXPERIMENTS["cell-type"].variants["gru-lag4"],
    }


def bench(*args, env=None):
    """Run the command to its end; its CompletedProcess (text output)."""
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=600)


def start(*args):
    """Start the command in a session of its own, SIGINT as in a user's terminal (a shell's
    background jobs inherit it ignored)."""
    return subprocess.Popen([sys.executable, "-m", "bench", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


QUICK = ["run", "echo-current", "--seeds", "4", "--epochs", "5", "--quiet"]  # a run of fake workers


def trained(task):
    """What a worker would send back, made up (for tests about what happens to it)."""
    rng = np.random.default_rng(task.seed)
    loss = rng.random(task.setup.epochs).astype(np.float32)
    return Run({"eval_accuracy": 1.0, "eval_accuracy_incomplete": float("nan"),
                "eval_sequence_accuracy": float("nan")}, float(loss[-1]), 0.1, Curves(loss, loss),
               device="Made-up GPU")
