"""A results directory's `.staging/`: finished runs saved durably before any CSV is rewritten
(the runs of a vectorized chunk together in one file), and the records of unfinished `--force`
replacements, whose runs stay out of view until every seed is staged."""

import dataclasses
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench.store import files
from bench.store.files import TEMPORARY, StoreError, file_stem, reason
from bench.store.schema import PROVENANCE_COLUMNS, RUN_COLUMNS, run_row
from bench.store.validation import check_values, typed

REPLACEMENT = ".replacing.json"  # suffix of a staged record of an unfinished --force
QUARANTINE = "quarantine"  # beside .staging/: staged files that cannot be used, kept for inspection


@dataclasses.dataclass(frozen=True)
class Staged:
    """Finished runs saved together (a chunk's, or one), not yet merged."""

    path: Path
    runs: pd.DataFrame
    curves: pd.DataFrame
    curve_every: int


@dataclasses.dataclass(frozen=True)
class Unusable:
    """A staged file that cannot be merged, and why (a sentence naming it)."""

    path: Path
    reason: str


@dataclasses.dataclass(frozen=True)
class Replacement:
    """An unfinished `--force`: the variant it replaces, with the runs of `seeds` under
    `settings_hash`, recorded in `path`."""

    path: Path
    variant: str
    settings_hash: str
    seeds: tuple[int, ...]


def curve_blocks(results, every: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The curve points of runs of one variant, all at once: each point's label (the last epoch of
    its block of `every` epochs) and the block means of loss and accuracy, one row per run."""
    loss = np.stack([result.curves.loss for result in results])
    epochs = np.arange(1, loss.shape[1] + 1)
    block = (epochs - 1) // every
    labels = pd.Series(epochs).groupby(block).max().to_numpy()

    def means(values):
        return pd.DataFrame(values.T).groupby(block).mean().to_numpy(np.float64).T

    return labels, means(loss), means(np.stack([result.curves.accuracy for result in results]))


@dataclasses.dataclass(frozen=True)
class Staging:
    """The `.staging/` folder of one experiment's results."""

    folder: Path
    experiment: str

    def stage(self, finished: list, curve_every: int = 1, made: dict | None = None) -> None:
        """Save finished runs of one variant, (task, result) pairs, durably in one file: a
        chunk's runs cost one write, not one per seed."""
        tasks = [task for task, _ in finished]
        epochs, loss, accuracy = curve_blocks([result for _, result in finished], curve_every)
        header = {"rows": [run_row(task, result, made) for task, result in finished],
                  "curve_every": curve_every}
        data = io.BytesIO()
        np.savez(data, header=np.frombuffer(json.dumps(header, default=_plain).encode(), np.uint8),
                 epoch=epochs, loss=loss, accuracy=accuracy)
        name = (f"{file_stem(tasks[0].variant)}--seeds-{tasks[0].seed}-to-{tasks[-1].seed}-"
                f"{len(tasks)}.npz")
        files.atomic_write(self.folder / name, data.getvalue())

    def runs(self) -> list[Staged]:
        """Every usable staged file's runs and curves (see `read`)."""
        return self.read()[0]

    def read(self) -> tuple[list[Staged], list[Unusable]]:
        """Every staged file's runs and curves, checked as strictly as the CSVs, and the files
        that fail those checks (never merged: see `quarantine`)."""
        if not self.folder.is_dir():
            return [], []
        staged, unusable = [], []
        for path in sorted(self.folder.iterdir()):
            if not (path.name.startswith(TEMPORARY) or path.name.endswith(REPLACEMENT)):
                try:
                    staged.append(self._read(path))
                except StoreError as error:
                    unusable.append(Unusable(path, str(error)))
        return staged, unusable

    def quarantine(self, unusable: Unusable) -> Path:
        """Move a staged file that cannot be used out of the way, beside .staging/, kept for
        inspection: its seeds count as not run. Returns where it went."""
        folder = self.folder.parent / QUARANTINE
        folder.mkdir(exist_ok=True)
        moved, copies = folder / unusable.path.name, 0
        while moved.exists() or moved.is_symlink():  # never over an earlier one
            copies += 1
            moved = folder / f"{unusable.path.name}.{copies}"
        os.replace(unusable.path, moved)
        return moved

    def _read(self, path: Path) -> Staged:
        try:
            rows, epochs, loss, accuracy, every = _read_file(path)
            rows = [{**{c: row[c] for c in RUN_COLUMNS if c not in PROVENANCE_COLUMNS},
                     **{c: row.get(c) for c in PROVENANCE_COLUMNS}} for row in rows]
            points = len(epochs)
            curves = pd.DataFrame({
                "experiment": np.repeat([row["experiment"] for row in rows], points),
                "variant": np.repeat([row["variant"] for row in rows], points),
                "seed": np.repeat([row["seed"] for row in rows], points),
                "epoch": np.tile(epochs, len(rows)),
                "loss": np.ravel(loss), "accuracy": np.ravel(accuracy)})
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as error:
            raise StoreError(f"staged run {path} is unreadable ({reason(error)})") from None
        alien = [row["experiment"] for row in rows if row["experiment"] != self.experiment]
        if alien:
            raise StoreError(f"staged run {path} belongs to {alien[0]}, not {self.experiment}")
        runs = pd.DataFrame(rows, columns=RUN_COLUMNS)
        for table, name in ((runs, "runs.csv"), (curves, "curves.csv")):
            where = pd.Series([f"{name[:-5]} row {i + 1}" for i in range(len(table))],
                              index=table.index)
            check_values(table, name, path, where, staged=True)
        return Staged(path, typed(runs, "runs.csv"), typed(curves, "curves.csv"), every)

    def begin_replacement(self, variant: str, settings_hash: str, seeds: list[int]) -> None:
        """Record, before anything trains, that `--force` replaces `variant` with the runs of
        `seeds` under `settings_hash`. Staged runs of other settings that an earlier,
        unfinished replacement held are dropped (they can never finish)."""
        for run in self.runs():
            if run.runs["variant"].iloc[0] == variant and (
                    run.runs["settings_hash"].iloc[0] != settings_hash):
                run.path.unlink()
        record = {"variant": variant, "settings_hash": settings_hash, "seeds": sorted(seeds)}
        files.atomic_write(self.folder / f"{file_stem(variant)}{REPLACEMENT}",
                           json.dumps(record).encode())

    def replacements(self) -> list[Replacement]:
        """The unfinished replacements (`--force`) recorded here."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob(f"*{REPLACEMENT}")):
            try:
                record = json.loads(path.read_bytes())
                variant, settings, seeds = (record["variant"], record["settings_hash"],
                                            record["seeds"])
                if not (isinstance(variant, str) and isinstance(settings, str)
                        and isinstance(seeds, list) and all(type(s) is int for s in seeds)):
                    raise ValueError("a field of the wrong type")
                found.append(Replacement(path, variant, settings, tuple(seeds)))
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise StoreError(f"{path} is not a replacement record ({reason(error)}); remove "
                                 "it to abandon that replacement") from None
        return found

    def abandon(self, variants: list[str] | None = None) -> list[Replacement]:
        """Drop unfinished replacements (of `variants`, else all) and the runs they held back.
        Returns those dropped."""
        dropped = [r for r in self.replacements() if variants is None or r.variant in variants]
        names = {r.variant for r in dropped}
        for replacement in dropped:
            replacement.path.unlink()
        for run in self.runs():
            if run.runs["variant"].iloc[0] in names:
                run.path.unlink()
        return dropped

    def split(self, staged: list[Staged]) -> tuple[list, list, list]:
        """Staged runs split by the replacements recorded here: those to fold in now, those an
        unfinished replacement holds back, and the replacements whose every seed is staged."""
        replacements = {r.variant: r for r in self.replacements()}
        ready, held, finished = [], [], []
        waiting = {}
        for run in staged:
            variant = run.runs["variant"].iloc[0]
            (waiting.setdefault(variant, []) if variant in replacements else ready).append(run)
        for variant, replacement in replacements.items():
            runs = waiting.get(variant, [])
            seeds = {seed for run in runs if run.runs["settings_hash"].iloc[0]
                     == replacement.settings_hash for seed in run.runs["seed"]}
            if seeds >= set(replacement.seeds):
                ready += runs
                finished.append(replacement)
            else:
                held += runs
        return sorted(ready, key=lambda run: run.path), held, finished


def _read_file(path: Path) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray, int]:
    """A staged file's run rows, curve labels, loss and accuracy (a row per run) and curve_every."""
    with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as data:
        header = json.loads(data["header"].tobytes())
        loss, accuracy = data["loss"], data["accuracy"]
        if loss.shape != accuracy.shape or loss.shape != (len(header["rows"]), len(data["epoch"])):
            raise ValueError("its curves do not match its runs")
        return header["rows"], data["epoch"], loss, accuracy, int(header["curve_every"])


def _plain(value):
    """JSON for numpy scalars in a staged row."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__}")
