"""The results store: tidy CSV per experiment, written atomically."""

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from echo.scoring import SCORES, epochs_to_reach

RUN_COLUMNS = ["experiment", "variant", "seed", "epochs", *SCORES, "final_loss",
               "train_seconds", "compile_seconds", "ms_per_epoch", "epochs_to_99", "lag", "window", "units", "batch_size",
               "stateful", "carry_state", "missing", "out_steps", "cell", "framing"]
CURVE_COLUMNS = ["experiment", "variant", "seed", "epoch", "loss", "accuracy"]


def run_row(task, result) -> dict:
    """One row of runs.csv for a finished task."""
    setup = task.setup
    return {
        "experiment": task.experiment, "variant": task.variant, "seed": task.seed,
        "epochs": setup.epochs, **result.scores,
        "final_loss": result.final_loss, "train_seconds": result.train_seconds,
        "compile_seconds": result.curves.compile_seconds,
        "ms_per_epoch": 1000 * (result.train_seconds - result.curves.compile_seconds) / setup.epochs,
        "epochs_to_99": epochs_to_reach(result.curves.accuracy, 0.99),
        "lag": setup.lag, "window": setup.window, "units": setup.units,
        "batch_size": setup.batch_size, "stateful": setup.stateful,
        "carry_state": setup.carry_state, "missing": setup.missing,
        "out_steps": setup.out_steps, "cell": setup.cell,
        "framing": setup.framing,
    }


def curve_rows(task, result) -> pd.DataFrame:
    """Rows of curves.csv for a finished task: one per epoch (1-based)."""
    curves = result.curves
    return pd.DataFrame({
        "experiment": task.experiment, "variant": task.variant, "seed": task.seed,
        "epoch": range(1, len(curves.loss) + 1), "loss": curves.loss,
        "accuracy": curves.accuracy,
    })


def write_experiment(directory: Path, runs: list[dict], curves: list[pd.DataFrame],
                     meta: dict) -> None:
    """Write runs.csv, curves.csv and meta.json for one experiment, sorted and atomic."""
    directory.mkdir(parents=True, exist_ok=True)
    keys = ["variant", "seed"]
    runs_table = pd.DataFrame(runs, columns=RUN_COLUMNS).sort_values(keys)
    curves_table = pd.concat(curves).sort_values(keys + ["epoch"])[CURVE_COLUMNS]
    _atomic_write(directory / "runs.csv", runs_table.to_csv(index=False))
    _atomic_write(directory / "curves.csv", curves_table.to_csv(index=False))
    _atomic_write(directory / "meta.json", json.dumps(meta, indent=2, sort_keys=True) + "\n")


def _atomic_write(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename over."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
