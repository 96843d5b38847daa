"""Provenance for a results directory: command, settings, versions, machine, commit."""

import dataclasses
import datetime
import functools
import os
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "echo-bench"
ALSO = ("jaxlib", "tensorflow")  # pulled in by what we declare, and they decide the numbers


def provenance(experiment, tasks, curve_every: int) -> dict:
    """What a reader needs to know how an experiment's results were made: the experiment,
    the settings of the variants this command runs, versions, machine."""
    variants = {task.variant: dataclasses.asdict(task.setup) for task in tasks}
    notes = {task.variant: cell_notes(task.setup) for task in tasks if ":" in task.setup.cell}
    notes = {variant: note for variant, note in notes.items() if note}
    return {**({"cell_notes": notes} if notes else {}),
        "experiment": experiment.name,
        "question": experiment.question,
        "claim": experiment.claim,
        "baseline": experiment.baseline,
        "notes": experiment.notes,
        "variants": list(variants),
        "descriptions": {task.variant: task.setup.describe() for task in tasks},
        "settings": variants,
        "curve_every": curve_every,
        "keras_backend": os.environ.get("KERAS_BACKEND", "jax"),
        "packages": _versions(),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "processor": platform.machine(), "cpu": _cpu_model(), "cores": os.cpu_count()},
        "git_commit": _git_commit(),
    }


@functools.cache
def cell_notes(setup) -> str:
    """What a reader of a user's cell's runs should know that its settings do not say: initial
    weights Keras drew (no initializer known), a mask the layer does not consume."""
    from echo.initial import keras_drawn
    from echo.models import sequence_layer
    from echo.protocol import template_model

    notes = []
    drawn = keras_drawn(template_model(setup, clear=False))
    if drawn:
        notes.append(f"Keras's own draw under each seed for {', '.join(drawn)} (no initializer "
                     "known for it), so its initial weights differ between backends")
    if setup.missing == "mask" and not sequence_layer(setup.cell).masks:
        notes.append("the layer does not consume masks: Keras drops the Masking layer's mask, so "
                     "masked steps reach it as -1 values")
    return "; ".join(notes)


def invocation(argv: list[str], started: str, wall_seconds: float, runs: int, failed: int,
               status: str, git_commit: str | None, engine: str, backend: str,
               devices: list[str] | None = None) -> dict:
    """One command's entry in meta.json's `invocations`: what it stored, where (engine,
    backend, the devices its runs trained on: 'cpu' or a GPU's name), and how it ended
    (`running`, and no end time, stay if it was killed)."""
    ended = None if status == "running" else _now()
    return {"command": command_line(argv), "started": started, "ended": ended,
            "wall_seconds": round(wall_seconds, 1), "runs": runs, "failed": failed,
            "status": status, "engine": engine, "backend": backend,
            "devices": devices or [], "git_commit": git_commit}


def command_line(argv: list[str]) -> str:
    """The command as a user types it, for provenance."""
    return "python -m bench " + " ".join(argv)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions() -> dict:
    """The installed version of every package this project declares (extras included)."""
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
        declared = [re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0] for r in requirements]
    except metadata.PackageNotFoundError:
        declared = []
    versions = {}
    for package in sorted({*declared, *ALSO}):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


ROOT = Path(__file__).resolve().parents[1]
# Only these make a commit dirty: results and reports change as a run writes them.
CODE = ("echo", "bench", "experiments", "pyproject.toml")


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=ROOT, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                *CODE], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() + ("-dirty" if dirty else "")
