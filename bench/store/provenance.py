"""Provenance for a results directory: command, settings, versions, machine, commit, and how
each command's provenance joins the earlier ones' in meta.json."""

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

from bench.store.schema import FORMAT, hash_of_settings
from echo.spec import user_cell

DISTRIBUTION = "echo-bench"
ALSO = ("jaxlib", "tensorflow")  # pulled in by what we declare, and they decide the numbers


def provenance(experiment, tasks, curve_every: int) -> dict:
    """What a reader needs to know how an experiment's results were made: the experiment,
    the settings of the variants this command runs, versions, machine."""
    variants = {task.variant: dataclasses.asdict(task.setup) for task in tasks}
    notes = {task.variant: cell_notes(task.setup) for task in tasks if user_cell(task.setup.cell)}
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
    weights Keras drew (no initializer known), a layer's last step feeding the head, a mask
    the layer does not consume."""
    # Late: Keras, loaded only for a user's cell.
    from echo.cells import sequence_layer
    from echo.initial import keras_drawn
    from echo.protocol import template_model

    notes = []
    drawn = keras_drawn(template_model(setup, clear=False))
    if drawn:
        notes.append(f"Keras's own draw under each seed for {', '.join(drawn)} (no initializer "
                     "known for it), so its initial weights differ between backends")
    if sequence_layer(setup.cell).last_step(setup.model_spec().head):
        notes.append("the layer returns a value at every step: its last step feeds the head")
    if setup.missing == "mask" and not sequence_layer(setup.cell).masks:
        notes.append("the layer does not consume masks: Keras drops the Masking layer's mask, so "
                     "masked steps reach it as -1 values")
    return "; ".join(notes)


def invocation(argv: list[str], started: str, wall_seconds: float, *, runs: int, failed: int,
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


def combined(earlier: dict, meta: dict, invocation: dict, runs, curve_every: int) -> dict:
    """This command's provenance on top of the earlier ones' (under them if it stored
    nothing): variants are united (a variant's settings follow its stored `runs`), and every
    command that stored, failed or `recovered` runs (merged those a killed command staged) is
    kept in `invocations`, the latest that stored runs also at the top level."""
    stored = runs.groupby("variant")["settings_hash"].first().to_dict()
    # Provenance describes the commands that stored runs: one that stored none only heals.
    newest = (earlier, meta) if invocation["runs"] else (meta, earlier)
    joined = {**newest[0], **newest[1], "format": FORMAT, "curve_every": int(curve_every),
              "seeds": sorted(set(runs["seed"].tolist()))}
    for key in ("settings", "descriptions", "cell_notes"):
        joined[key] = dict(earlier.get(key, {}))
    for variant, settings in meta["settings"].items():
        if stored.get(variant, hash_of_settings(settings)) == hash_of_settings(settings):
            joined["settings"][variant] = settings
            joined["descriptions"][variant] = meta["descriptions"][variant]
            joined["cell_notes"].pop(variant, None)
            if variant in meta.get("cell_notes", {}):
                joined["cell_notes"][variant] = meta["cell_notes"][variant]
    if not joined["cell_notes"]:
        del joined["cell_notes"]
    joined["variants"] = list(dict.fromkeys(earlier.get("variants", []) + meta["variants"]))
    joined["invocations"] = _invocations(earlier.get("invocations", []), invocation)
    latest = [i for i in joined["invocations"] if i["runs"]] or [invocation]
    for key in ("command", "wall_seconds", "runs"):
        joined[key] = latest[-1][key]
    return joined


def _invocations(earlier: list[dict], invocation: dict) -> list[dict]:
    """The earlier commands' entries with this command's (in place of its own earlier merges'),
    kept where it stored, failed or recovered runs."""
    kept = [i for i in earlier if i.get("started") != invocation["started"]]
    # This command's earlier merges may have recovered runs that this one no longer sees staged.
    recovered = sum(i.get("recovered", 0) for i in earlier
                    if i.get("started") == invocation["started"]) + invocation.get("recovered", 0)
    if recovered:
        invocation = {**invocation, "recovered": recovered}
    if invocation["runs"] or invocation["failed"] or recovered:
        kept.append(invocation)
    return kept


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
