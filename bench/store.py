"""The results store: tidy CSV per experiment that never loses or duplicates a finished run.

Layout under DIR/NAME/: `runs.csv` (one row per variant and seed), `curves.csv`
(one row per variant, seed and epoch), `errors.csv` (runs that failed, with
their message) and `meta.json` (provenance, format version). Every finished
run is first saved on its own in `.staging/` (written to a temporary file,
flushed, renamed), then merged into the CSVs, which are replaced whole by
rename: a reader, or a run killed at any moment, never sees half a file, and
a run present in both places is kept once.
"""

import dataclasses
import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from echo.scoring import SCORES, epochs_to_reach

FORMAT = 1
RUN_COLUMNS = ["experiment", "variant", "seed", "epochs", *SCORES, "final_loss", "train_seconds",
               "compile_seconds", "ms_per_epoch", "epochs_to_99", "settings_hash", "lag", "window",
               "units", "batch_size", "stateful", "carry_state", "missing", "out_steps", "cell",
               "framing"]
CURVE_COLUMNS = ["experiment", "variant", "seed", "epoch", "loss", "accuracy"]
ERROR_COLUMNS = ["experiment", "variant", "seed", "settings_hash", "error"]
KEYS = ["variant", "seed"]
# Never empty in a sound file; the last column of each is among them, so a cut row shows.
REQUIRED = {"runs.csv": ["experiment", "variant", "seed", "epochs", "eval_accuracy", "final_loss",
                         "train_seconds", "settings_hash", "framing"],
            "curves.csv": CURVE_COLUMNS, "errors.csv": ["experiment", "variant", "seed", "error"]}


class StoreError(Exception):
    """Results that cannot be used as they are: reported as one line, nothing is changed."""


def settings_hash(setup) -> str:
    """A short fingerprint of a variant's settings and the results format."""
    text = json.dumps({"format": FORMAT, **dataclasses.asdict(setup)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def run_row(task, result) -> dict:
    """One row of runs.csv for a finished task."""
    setup = task.setup
    return {
        "experiment": task.experiment, "variant": task.variant, "seed": task.seed,
        "epochs": setup.epochs, **result.scores, "final_loss": result.final_loss,
        "train_seconds": result.train_seconds, "compile_seconds": result.curves.compile_seconds,
        "ms_per_epoch": 1000 * (result.train_seconds - result.curves.compile_seconds) / setup.epochs,
        "epochs_to_99": epochs_to_reach(result.curves.accuracy, 0.99),
        "settings_hash": settings_hash(setup), "lag": setup.lag, "window": setup.window,
        "units": setup.units, "batch_size": setup.batch_size, "stateful": setup.stateful,
        "carry_state": setup.carry_state, "missing": setup.missing, "out_steps": setup.out_steps,
        "cell": setup.cell, "framing": setup.framing,
    }


def curve_rows(task, result, every: int = 1) -> pd.DataFrame:
    """Rows of curves.csv for a finished task: one per epoch (1-based), or with `every` > 1 one
    per block of that many epochs, holding the block's mean and labelled by its last epoch."""
    curves = result.curves
    epochs = np.arange(1, len(curves.loss) + 1)
    block = (epochs - 1) // every
    table = pd.DataFrame({"block": block, "epoch": epochs, "loss": curves.loss,
                          "accuracy": curves.accuracy}).groupby("block")
    table = table.agg(epoch=("epoch", "max"), loss=("loss", "mean"), accuracy=("accuracy", "mean"))
    return table.assign(experiment=task.experiment, variant=task.variant,
                        seed=task.seed)[CURVE_COLUMNS].reset_index(drop=True)


class ExperimentStore:
    """The results of one experiment in one directory."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.staging = directory / ".staging"

    def load(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Finished runs and their curves, refusing results written by another format or CSVs
        that are truncated or malformed."""
        meta = self.directory / "meta.json"
        if meta.exists():
            try:
                found = json.loads(meta.read_text()).get("format")
            except (json.JSONDecodeError, AttributeError):
                raise StoreError(f"{meta} is not valid JSON") from None
            if found != FORMAT:
                raise StoreError(f"{meta} was written by results format {found}, this version "
                                 f"reads format {FORMAT}; use another --results directory")
        return self.runs(), self._read("curves.csv", CURVE_COLUMNS)

    def runs(self) -> pd.DataFrame:
        """Finished runs: runs.csv merged with any staged runs not yet merged."""
        merged, _ = self._merged()
        return merged

    def errors(self) -> pd.DataFrame:
        return self._read("errors.csv", ERROR_COLUMNS)

    def stage(self, task, result, curve_every: int = 1) -> None:
        """Save one finished run on its own, durably, before anything else is rewritten."""
        row = run_row(task, result)
        _atomic_write(self.staging / f"{task.variant}--seed-{task.seed}.pkl",
                      pickle.dumps((row, curve_rows(task, result, curve_every))))

    def curve_every(self) -> int | None:
        """The epochs per stored curve point of the results already here (None if none)."""
        path = self.directory / "meta.json"
        return json.loads(path.read_text()).get("curve_every", 1) if path.exists() else None

    def merge(self, errors: list[dict], meta: dict | None = None) -> None:
        """Merge staged runs into the CSVs; record `errors`; drop errors of runs now finished."""
        runs, staged = self._merged()
        curves = self._read("curves.csv", CURVE_COLUMNS)
        if staged:
            fresh = pd.concat([curve for _, curve in staged.values()])
            done = pd.MultiIndex.from_frame(fresh[KEYS].drop_duplicates())
            curves = curves[~pd.MultiIndex.from_frame(curves[KEYS]).isin(done)]
            curves = pd.concat([curves, fresh]).sort_values(KEYS + ["epoch"])
        old_errors = self.errors()
        retried = {(e["variant"], e["seed"]) for e in errors}
        finished = set(zip(runs["variant"], runs["seed"]))
        keep = [(v, s) not in retried | finished for v, s in zip(old_errors["variant"], old_errors["seed"])]
        all_errors = pd.concat([old_errors[keep], pd.DataFrame(errors, columns=ERROR_COLUMNS)])
        self.directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.directory / "runs.csv", runs.to_csv(index=False).encode())
        _atomic_write(self.directory / "curves.csv", curves[CURVE_COLUMNS].to_csv(index=False).encode())
        if len(all_errors):
            _atomic_write(self.directory / "errors.csv",
                          all_errors.sort_values(KEYS).to_csv(index=False).encode())
        elif (self.directory / "errors.csv").exists():
            (self.directory / "errors.csv").unlink()
        if meta is not None:
            meta = self._combined_meta(meta)
            meta = {"format": FORMAT, **meta, "seeds": sorted(set(runs["seed"].tolist()))}
            _atomic_write(self.directory / "meta.json",
                          (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
        for path in staged:
            path.unlink()

    def _combined_meta(self, meta: dict) -> dict:
        """This invocation's provenance on top of the earlier ones': variants are united and
        every invocation that ran something is kept in `invocations`."""
        path = self.directory / "meta.json"
        earlier = json.loads(path.read_text()) if path.exists() else {}
        combined = dict(meta)
        for key in ("settings", "descriptions"):
            combined[key] = {**earlier.get(key, {}), **meta[key]}
        combined["variants"] = list(dict.fromkeys(earlier.get("variants", []) + meta["variants"]))
        combined["invocations"] = earlier.get("invocations", []) + [
            {"command": meta["command"], "wall_seconds": meta["wall_seconds"],
             "runs": meta["runs"], "git_commit": meta["git_commit"]}]
        return combined

    def _merged(self):
        runs = self._read("runs.csv", RUN_COLUMNS)
        staged = {}
        for path in sorted(self.staging.glob("*.pkl")) if self.staging.exists() else []:
            try:
                staged[path] = pickle.loads(path.read_bytes())
            except (pickle.UnpicklingError, EOFError, ValueError):
                raise StoreError(f"staged run {path} is unreadable; remove it to rerun that seed") from None
        if staged:
            fresh = pd.DataFrame([row for row, _ in staged.values()], columns=RUN_COLUMNS)
            runs = pd.concat([runs[~_in(runs, fresh)], fresh])
        return runs.sort_values(KEYS).reset_index(drop=True), staged

    def _read(self, name: str, columns: list[str]) -> pd.DataFrame:
        path = self.directory / name
        if not path.exists():
            return pd.DataFrame(columns=columns)
        try:
            table = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise StoreError(f"{path} is malformed ({str(error).splitlines()[0]}); "
                             "move it away to rerun") from None
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise StoreError(f"{path} lacks the columns {', '.join(missing)}; "
                             "it was not written by this version")
        if table[REQUIRED[name]].isna().any().any() or not _integral(table["seed"]):
            raise StoreError(f"{path} is truncated or malformed (empty or non-numeric fields); "
                             "move it away to rerun")
        return table[columns].astype({"seed": int})


def _in(table: pd.DataFrame, other: pd.DataFrame):
    return pd.MultiIndex.from_frame(table[KEYS]).isin(pd.MultiIndex.from_frame(other[KEYS]))


def _integral(values: pd.Series) -> bool:
    numeric = pd.to_numeric(values, errors="coerce")
    return bool(numeric.notna().all() and (numeric == numeric.round()).all())


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
