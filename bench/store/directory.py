"""The results store: tidy CSV per experiment that never loses, duplicates or mixes a run.

Layout under DIR/NAME/: `runs.csv` (one row per variant and seed), `curves.csv`
(one row per variant, seed and curve point), `errors.csv` (runs that failed, with
their message) and `meta.json` (provenance, format version). One command at a
time writes a directory (`writer`, an exclusive lock held for the whole command).
Every finished run is first saved in `.staging/` (`bench.store.staging`), then merged into the
CSVs, which are replaced whole by rename while readers wait on a second, short lock: a
reader, or a command killed at any instruction, never sees half a file or half a merge, and a
run present in both places is kept once. Staged runs of other settings than a
variant's stored ones replace the whole variant, never part of it. A `--force` is a
replacement recorded in `.staging/` before anything trains: the runs it stages stay out of
every reader's view until all of its seeds are staged, then replace the variant in one merge.
"""

import dataclasses
import fcntl
import json
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from bench.store import files
from bench.store.files import SetAside, StoreError, reason
from bench.store.provenance import combined
from bench.store.schema import CURVE_COLUMNS, ERROR_COLUMNS, FORMAT, KEYS, RUN_COLUMNS
from bench.store.staging import QUARANTINE, Staging, Unusable
from bench.store.validation import check_curves, check_experiment, check_runs, read_csv, read_meta

WRITER_LOCK = ".writer.lock"  # held by the one command writing this directory
READ_LOCK = ".read.lock"  # held briefly: exclusively while merging, shared while loading


class Busy(StoreError):
    """Another command is writing the directory."""


@dataclasses.dataclass(frozen=True)
class Results:
    """An experiment's stored results as a reader sees them: its runs, curves and meta.json
    (None where there is none)."""

    runs: pd.DataFrame
    curves: pd.DataFrame
    meta: dict | None


@dataclasses.dataclass(frozen=True)
class Contents:
    """What a planner needs of a store: its runs, the epochs per curve point (None without
    runs), and the settings hash by (variant, seed) of the runs an unfinished replacement holds
    back."""

    runs: pd.DataFrame
    every: int | None
    held: dict


@dataclasses.dataclass(frozen=True)
class Combined:
    """What a store holds as a reader sees it (runs, curves, epochs per curve point, meta.json),
    the staged runs folded into it, those an unfinished replacement holds back, and the
    replacements this fold finishes."""

    runs: pd.DataFrame
    curves: pd.DataFrame
    every: int | None
    staged: list
    meta: dict | None
    held: list
    finished: list


def stored_experiments(results: Path) -> list[str]:
    """The experiments with runs stored in a results directory, by name."""
    return sorted(p.parent.name for p in results.glob("*/runs.csv"))


def load_results(results: Path, names: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs and curves of every experiment in `results` (or of `names`), one table each."""
    found = stored_experiments(results)
    unknown = [n for n in names or [] if n not in found]
    if unknown or not found:
        raise StoreError(f"no results for {unknown[0]!r} in {results}/" if unknown
                         else f"no results in {results}/")
    loaded = [ExperimentStore(results / name).load() for name in names or found]
    return (pd.concat([r.runs for r in loaded], ignore_index=True),
            pd.concat([r.curves for r in loaded], ignore_index=True))


class ExperimentStore:
    """The results of one experiment in one directory."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.staging = self.directory / ".staging"
        self._staging = Staging(self.staging, self.directory.name)

    @property
    def name(self) -> str:
        return self.directory.name

    @contextmanager
    def writer(self, wait: bool = False, waiting=None):
        """Hold this directory for one command: create it, lock it against every other writer
        (refused at once with Busy, or with `wait` after `waiting(message)`, blocking until
        free), and remove temporary files a killed writer left. The lock dies with the process."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = files.open_lock(self.directory / WRITER_LOCK)
        except OSError as error:
            raise StoreError(f"cannot write results in {self.directory}: {reason(error)}") from None
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._wait_for_writer(handle, wait, waiting)
            try:
                os.ftruncate(handle, 0)
                os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
                self.staging.mkdir(exist_ok=True)
                files.remove_temporaries(self.directory, self.staging)
                for folder in (self.directory, self.staging):  # writable, before anything trains
                    files.probe_writable(folder)
                self._quarantine()
            except OSError as error:
                raise StoreError(f"cannot write results in {self.directory}: {reason(error)}") from None
            yield self
        finally:
            os.close(handle)

    def _quarantine(self) -> None:
        """Move the staged files that cannot be merged out of the way before this command stages
        any (a rerun of their seeds would write over them), each said in one line."""
        try:
            meta = self.meta() if (self.directory / "runs.csv").exists() else None
        except StoreError:
            meta = None  # refused, naming the file, when the command reads the results
        with self._read_lock(fcntl.LOCK_EX):
            self._set_aside(self._staged(meta.get("curve_every", 1) if meta else None)[1], move=True)

    def _wait_for_writer(self, handle: int, wait: bool, waiting) -> None:
        holder = os.pread(handle, 64, 0).decode(errors="replace").strip() or "unknown"
        message = f"{self.directory} is being written by another command (pid {holder})"
        if not wait:
            raise Busy(f"{message}; wait for it to end, use --wait, or use another "
                       "--results directory") from None
        if waiting:
            waiting(f"{message}; waiting for it to end")
        fcntl.flock(handle, fcntl.LOCK_EX)

    def load(self) -> Results:
        """Finished runs and their curves (staged ones included), validated, with meta.json:
        results of another format, malformed files, duplicated or mixed runs and curves that do
        not match their runs are refused with a StoreError naming the file and line."""
        with self._read_lock(fcntl.LOCK_SH):
            found = self._combined()
        return Results(found.runs, found.curves, found.meta)

    def contents(self) -> Contents:
        """The runs as `load` gives them, how often their curves are stored, and what an
        unfinished replacement holds back."""
        with self._read_lock(fcntl.LOCK_SH):
            found = self._combined()
        runs = _stacked([run.runs for run in found.held]) if found.held else None
        held = {} if runs is None else dict(zip(zip(runs["variant"], runs["seed"]),
                                                runs["settings_hash"]))
        return Contents(found.runs, found.every, held)

    def meta(self) -> dict | None:
        """The provenance in meta.json, or None when there is none."""
        return read_meta(self.directory / "meta.json")

    def errors(self) -> pd.DataFrame:
        """The runs that failed and were not rerun since, with their messages."""
        return read_csv(self.directory / "errors.csv").drop(columns="line", errors="ignore")

    def stage(self, finished: list, curve_every: int = 1, made: dict | None = None) -> None:
        """Save finished runs of one variant, (task, result) pairs, durably in one file before
        anything else is rewritten."""
        self._staging.stage(finished, curve_every, made)

    def merge(self, errors: list[dict], provenance: dict, invocation: dict) -> pd.DataFrame:
        """Merge staged runs into the CSVs, record `errors` (dropping those of runs now
        finished), and rewrite meta.json with this command's `provenance` and `invocation`.
        Returns the runs now stored."""
        with self._read_lock(fcntl.LOCK_EX):
            found = self._combined(move=True)
            all_errors = _errors_after(self.errors(), found.runs, errors)
            # Curves before runs: a merge killed in between is redone from .staging/ on load.
            if found.staged:
                self._write("curves.csv", found.curves[CURVE_COLUMNS])
                self._write("runs.csv", found.runs[RUN_COLUMNS])
            if len(all_errors) and (found.staged or errors):
                self._write("errors.csv", all_errors.sort_values(KEYS))
            elif not len(all_errors) and (self.directory / "errors.csv").exists():
                (self.directory / "errors.csv").unlink()
            if found.staged and not invocation["runs"]:  # runs a command killed before it merged
                invocation = {**invocation, "recovered": sum(len(run.runs) for run in found.staged)}
            self._write_meta(combined(found.meta or {}, provenance, invocation, found.runs,
                                           found.every or provenance["curve_every"]))
            # A finished replacement's record goes before its runs: the runs are in the CSVs.
            for replacement in found.finished:
                replacement.path.unlink()
            for run in found.staged:
                run.path.unlink()
        return found.runs

    def begin_replacement(self, variant: str, settings_hash: str, seeds: list[int]) -> None:
        """Record, before anything trains, that `--force` replaces `variant` with the runs of
        `seeds` under `settings_hash` (see `bench.store.staging`)."""
        self._staging.begin_replacement(variant, settings_hash, seeds)

    def replacements(self) -> list:
        """The unfinished replacements (`--force`) recorded here."""
        return self._staging.replacements()

    def abandon(self, variants: list[str] | None = None) -> list:
        """Drop unfinished replacements (of `variants`, else all) and the runs they held back,
        leaving the stored variants as they are. Returns those dropped."""
        return self._staging.abandon(variants)

    def annotate(self, updates: dict) -> None:
        """Add `updates` to meta.json (a writer's account that no merge makes)."""
        with self._read_lock(fcntl.LOCK_EX):
            self._write_meta({**(self.meta() or {"format": FORMAT}), **updates})

    def _write(self, name: str, table: pd.DataFrame) -> None:
        files.atomic_write(self.directory / name, table.to_csv(index=False).encode())

    def _write_meta(self, found: dict) -> None:
        files.atomic_write(self.directory / "meta.json",
                           (json.dumps(found, indent=2, sort_keys=True) + "\n").encode())

    def _combined(self, move: bool = False) -> Combined:
        """runs.csv and curves.csv with the staged runs folded in (see `fold`), validated
        together, with meta.json (None where there is none). A staged file that cannot be used
        is left out, said in one line, and (with `move`, while merging) quarantined."""
        found = self.meta()
        runs = read_csv(self.directory / "runs.csv")
        curves = read_csv(self.directory / "curves.csv")
        for table, name in ((runs, "runs.csv"), (curves, "curves.csv")):
            check_experiment(table, self.directory / name, self.name)
        check_runs(runs, self.directory / "runs.csv")
        every = found.get("curve_every", 1) if found and len(runs) else _inferred_every(curves)
        usable, unusable, every = self._staged(every)
        self._set_aside(unusable, move=move)
        staged, held, finished = self._staging.split(usable)
        runs, curves = fold(runs, curves, staged, held, self.staging)
        check_curves(runs, curves, self.directory / "curves.csv", every or 1)
        return Combined(runs.drop(columns="line", errors="ignore"),
                        curves.drop(columns="line", errors="ignore"), every, staged, found, held,
                        finished)

    def _staged(self, every: int | None) -> tuple[list, list, int | None]:
        """The staged runs that can be merged into results stored every `every` epochs per curve
        point (None: none stored), those that cannot (unreadable, failing the checks, or at
        another granularity), and the granularity after merging."""
        usable, unusable = self._staging.read()
        for run in usable:
            if every is None:
                every = run.curve_every
            elif run.curve_every != every:
                unusable.append(Unusable(run.path, f"staged run {run.path} stores curves every "
                                         f"{run.curve_every} epochs, the results every {every}"))
        bad = {found.path for found in unusable}
        return [run for run in usable if run.path not in bad], unusable, every

    def _set_aside(self, unusable: list, move: bool) -> None:
        """Say, once per file, that a staged file is left out; with `move`, quarantine it."""
        for found in unusable:
            if move:
                moved = self._staging.quarantine(found)
                warnings.warn(f"{found.reason}: moved to {moved} for inspection; nothing in it is "
                              "stored (a run of its seeds runs them again)", SetAside, stacklevel=2)
            else:
                warnings.warn(f"{found.reason}: left out (the next command that writes here moves "
                              f"it to {self.directory / QUARANTINE})", SetAside, stacklevel=2)

    @contextmanager
    def _read_lock(self, mode: int):
        """Readers wait while a merge rewrites the files (where the directory lets them lock)."""
        with files.held(self.directory / READ_LOCK, mode, required=mode == fcntl.LOCK_EX):
            yield


def fold(runs: pd.DataFrame, curves: pd.DataFrame, staged: list, held: list, folder: Path):
    """The stored runs and curves with the `staged` runs folded in, sorted: a staged run
    replaces its key; staged runs of other settings than a variant's stored ones replace the
    whole variant. A seed staged twice (among `staged` and `held`), or a variant staged under
    two settings, is refused naming the staging `folder`."""
    if staged or held:
        twice = _stacked([run.runs for run in [*staged, *held]])
        twice = twice[twice.duplicated(KEYS)]
        if len(twice):
            raise StoreError(f"{folder} holds {twice['variant'].iloc[0]} seed "
                             f"{twice['seed'].iloc[0]} twice; remove one of its files")
    if staged:
        fresh = _stacked([run.runs for run in staged])
        hashes = fresh.groupby("variant")["settings_hash"].unique()
        mixed = hashes[hashes.map(len) > 1]
        if len(mixed):
            raise StoreError(f"staged runs of {mixed.index[0]} in {folder} disagree on "
                             "settings; remove them to rerun those seeds")
        current = hashes.map(lambda h: h[0])
        superseded = runs["variant"].isin(current.index) & (
            runs["settings_hash"] != runs["variant"].map(current))
        replaced = _in(runs, fresh) | superseded
        gone = pd.MultiIndex.from_frame(runs.loc[replaced, KEYS])
        curves = curves[~pd.MultiIndex.from_frame(curves[KEYS]).isin(gone) & ~_in(curves, fresh)]
        runs = _stacked([runs[~replaced], fresh])
        curves = _stacked([curves, *[run.curves for run in staged]])
    return (runs.sort_values(KEYS).reset_index(drop=True),
            curves.sort_values(KEYS + ["epoch"]).reset_index(drop=True))


def _errors_after(stored: pd.DataFrame, runs: pd.DataFrame, errors: list[dict]) -> pd.DataFrame:
    """The `stored` errors but those of runs now finished or failed again, and `errors`."""
    retried = {(e["variant"], e["seed"]) for e in errors}
    finished = set(zip(runs["variant"], runs["seed"]))
    keep = [(v, s) not in retried | finished for v, s in zip(stored["variant"], stored["seed"])]
    return pd.concat([stored[keep], pd.DataFrame(errors, columns=ERROR_COLUMNS)])


def _stacked(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Tables stacked, the empty ones left out (their column types are unknown)."""
    kept = [t for t in tables if len(t)]
    return pd.concat(kept, ignore_index=True) if kept else tables[0]


def _inferred_every(curves: pd.DataFrame) -> int | None:
    """Without meta.json: the epochs per curve point, read off the first point of the curves."""
    return int(curves["epoch"].min()) if len(curves) else None


def _in(table: pd.DataFrame, other: pd.DataFrame):
    return pd.MultiIndex.from_frame(table[KEYS]).isin(pd.MultiIndex.from_frame(other[KEYS]))
