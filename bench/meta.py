"""Provenance for a results directory: command, settings, versions, machine, commit."""

import dataclasses
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PACKAGES = ("keras", "jax", "jaxlib", "tensorflow", "tensorflow-cpu", "numpy", "pandas", "scipy",
            "joblib")


def provenance(experiment, tasks, curve_every: int) -> dict:
    """What a reader needs to know how an experiment's results were made: the experiment,
    the settings of the variants this command runs, versions, machine."""
    variants = {task.variant: dataclasses.asdict(task.setup) for task in tasks}
    return {
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
                    "processor": platform.machine(), "cores": os.cpu_count()},
        "git_commit": _git_commit(),
    }


def invocation(argv: list[str], started: str, wall_seconds: float, runs: int, failed: int,
               status: str, git_commit: str | None) -> dict:
    """One command's entry in meta.json's `invocations`: what it stored, and how it ended
    (`running` stays if it was killed)."""
    return {"command": "python -m bench " + " ".join(argv), "started": started,
            "wall_seconds": round(wall_seconds, 1), "runs": runs, "failed": failed,
            "status": status, "git_commit": git_commit}


def _versions() -> dict:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


ROOT = Path(__file__).resolve().parents[1]
CODE = ("echo", "bench", "experiments", "pyproject.toml")  # results and reports do not dirty a commit


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=ROOT, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                *CODE], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() + ("-dirty" if dirty else "")
