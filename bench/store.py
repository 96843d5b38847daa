"""The results store: tidy CSV per experiment that never loses, duplicates or mixes a run.

Layout under DIR/NAME/: `runs.csv` (one row per variant and seed), `curves.csv`
(one row per variant, seed and curve point), `errors.csv` (runs that failed, with
their message) and `meta.json` (provenance, format version). One command at a
time writes a directory (`writer`, an exclusive lock held for the whole command).
Every finished run is first saved in `.staging/`, the runs of a vectorized chunk together in
one file (written to a temporary file, flushed, renamed), then merged into the CSVs, which are replaced
whole by rename while readers wait on a second, short lock: a reader, or a
command killed at any instruction, never sees half a file or half a merge, and a
run present in both places is kept once. Staged runs of other settings than a
variant's stored ones replace the whole variant, never part of it. A `--force` is a
replacement recorded in `.staging/` before anything trains: the runs it stages stay out of
every reader's view until all of its seeds are staged, then replace the variant in one merge.
"""

import dataclasses
import errno
import fcntl
import hashlib
import io
import json
import os
import re
import stat
import tempfile
import zipfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from bench.schema import (
    CURVE_COLUMNS,
    ERROR_COLUMNS,
    FORMAT,
    PROVENANCE_COLUMNS,
    RUN_COLUMNS,
    SCHEMAS,
    SETTINGS_COLUMNS,
    TEXT,
    hash_of_settings,
    meta_problem,
    settings_hash,
    settings_problem,
    table_problem,
)
from echo.scoring import LEARNED, epochs_to_reach
from echo.setup import Setup

# The settings columns every runs.csv has had (frozen: files of format 1 hold at least these).
FORMAT_1_COLUMNS = ("lag", "window", "units", "batch_size", "stateful", "carry_state", "missing",
                    "out_steps", "cell", "framing")
KEYS = ["variant", "seed"]
INTEGERS = {name: [c.name for c in schema if c.kind == "integer" and c.required]
            for name, schema in SCHEMAS.items()}
WRITER_LOCK = ".writer.lock"  # held by the one command writing this directory
READ_LOCK = ".read.lock"  # held briefly: exclusively while merging, shared while loading
TEMPORARY = ".tmp-"  # prefix of files being written; any left behind are removed by the next writer
REPLACEMENT = ".replacing.json"  # suffix of a staged record of an unfinished --force
# The names the store's temporary files have (mkstemp's 8 characters after the prefix, and
# after the name of the file they will replace): the only files clean-up removes.
MADE_TEMPORARY = re.compile(rf"{re.escape(TEMPORARY)}(?:.+\.)?[a-z0-9_]{{8}}")


class StoreError(Exception):
    """Results that cannot be used as they are: reported as one line, nothing is changed."""


class Busy(StoreError):
    """Another command is writing the directory."""


def run_row(task, result, made: dict | None = None) -> dict:
    """One row of runs.csv for a finished task; `made` gives its engine and backend."""
    setup = task.setup
    made = made or {}
    return {
        "experiment": task.experiment, "variant": task.variant, "seed": task.seed,
        "epochs": setup.epochs, **result.scores, "final_loss": result.final_loss,
        "train_seconds": result.train_seconds, "compile_seconds": result.curves.compile_seconds,
        "ms_per_epoch": 1000 * (result.train_seconds - result.curves.compile_seconds) / setup.epochs,
        "epochs_to_99": epochs_to_reach(result.curves.accuracy, LEARNED),
        "settings_hash": settings_hash(setup),
        **{name: getattr(setup, name) for name in SETTINGS_COLUMNS},
        "engine": made.get("engine"), "backend": made.get("backend"), "device": result.device,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


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


def curve_points(epochs: int, every: int) -> int:
    """How many curve rows a run of `epochs` has when stored every `every` epochs."""
    return -(-epochs // every)


@dataclasses.dataclass(frozen=True)
class Staged:
    """Finished runs saved together (a chunk's, or one), not yet merged."""

    path: Path
    runs: pd.DataFrame
    curves: pd.DataFrame
    curve_every: int


@dataclasses.dataclass(frozen=True)
class Replacement:
    """An unfinished `--force`: the variant it replaces, with the runs of `seeds` under
    `settings_hash`, recorded in `path`."""

    path: Path
    variant: str
    settings_hash: str
    seeds: tuple[int, ...]


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
    tables = [ExperimentStore(results / name).load() for name in names or found]
    return tuple(pd.concat(part, ignore_index=True) for part in zip(*tables))


class ExperimentStore:
    """The results of one experiment in one directory."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.staging = self.directory / ".staging"

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
            handle = _open_lock(self.directory / WRITER_LOCK)
        except OSError as error:
            raise StoreError(f"cannot write results in {self.directory}: {_reason(error)}") from None
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(handle, 64, 0).decode(errors="replace").strip() or "unknown"
                message = f"{self.directory} is being written by another command (pid {holder})"
                if not wait:
                    raise Busy(f"{message}; wait for it to end, use --wait, or use another "
                               "--results directory") from None
                if waiting:
                    waiting(f"{message}; waiting for it to end")
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                os.ftruncate(handle, 0)
                os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
                self.staging.mkdir(exist_ok=True)
                self._remove_temporaries()
                for folder in (self.directory, self.staging):  # writable, before anything trains
                    probe, name = tempfile.mkstemp(dir=folder, prefix=TEMPORARY)
                    os.close(probe)
                    os.unlink(name)
            except OSError as error:
                raise StoreError(f"cannot write results in {self.directory}: {_reason(error)}") from None
            yield self
        finally:
            os.close(handle)

    def load(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Finished runs and their curves (staged ones included), validated: results of another
        format, malformed files, duplicated or mixed runs and curves that do not match their
        runs are refused with a StoreError naming the file and line."""
        with self._read_lock(fcntl.LOCK_SH):
            found = self._combined()
        return found.runs, found.curves

    def contents(self) -> tuple[pd.DataFrame, pd.DataFrame, int | None, dict]:
        """As `load`, with the epochs per curve point of the runs (None without runs) and the
        runs an unfinished replacement holds back, their settings hash by (variant, seed)."""
        with self._read_lock(fcntl.LOCK_SH):
            found = self._combined()
        held = _stacked([run.runs for run in found.held]) if found.held else None
        pending = {} if held is None else dict(zip(zip(held["variant"], held["seed"]),
                                                   held["settings_hash"]))
        return found.runs, found.curves, found.every, pending

    def meta(self) -> dict | None:
        """The provenance in meta.json, or None when there is none."""
        path = self.directory / "meta.json"
        try:
            meta = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise StoreError(f"{path} is unreadable or not valid JSON ({_reason(error)}); "
                             "move it away and run again to rewrite it") from None
        if not isinstance(meta, dict):
            raise StoreError(f"{path} is not a JSON object; move it away and run again to rewrite it")
        if meta.get("format") != FORMAT:
            raise StoreError(f"{path} was written by results format {meta.get('format')}, this "
                             f"version reads format {FORMAT}; use another --results directory")
        problem = meta_problem(meta)
        if problem:
            raise StoreError(f"{path} is not as this version writes it: {problem}; restore it, "
                             "or move it away and run again to rewrite it")
        return meta

    def errors(self) -> pd.DataFrame:
        """The runs that failed and were not rerun since, with their messages."""
        return self._read("errors.csv", ERROR_COLUMNS).drop(columns="line", errors="ignore")

    def stage(self, finished: list, curve_every: int = 1, made: dict | None = None) -> None:
        """Save finished runs of one variant, (task, result) pairs, durably in one file before
        anything else is rewritten: a chunk's runs cost one write, not one per seed."""
        tasks = [task for task, _ in finished]
        epochs, loss, accuracy = curve_blocks([result for _, result in finished], curve_every)
        header = {"rows": [run_row(task, result, made) for task, result in finished],
                  "curve_every": curve_every}
        data = io.BytesIO()
        np.savez(data, header=np.frombuffer(json.dumps(header, default=_plain).encode(), np.uint8),
                 epoch=epochs, loss=loss, accuracy=accuracy)
        name = (f"{file_stem(tasks[0].variant)}--seeds-{tasks[0].seed}-to-{tasks[-1].seed}-"
                f"{len(tasks)}.npz")
        _atomic_write(self.staging / name, data.getvalue())

    def merge(self, errors: list[dict], meta: dict, invocation: dict) -> pd.DataFrame:
        """Merge staged runs into the CSVs, record `errors` (dropping those of runs now
        finished), and rewrite meta.json with this command's provenance and `invocation`.
        Returns the runs now stored."""
        with self._read_lock(fcntl.LOCK_EX):
            found = self._combined()
            runs, curves, every, staged, earlier = (found.runs, found.curves, found.every,
                                                    found.staged, found.meta)
            old_errors = self.errors()
            retried = {(e["variant"], e["seed"]) for e in errors}
            finished = set(zip(runs["variant"], runs["seed"]))
            keep = [(v, s) not in retried | finished
                    for v, s in zip(old_errors["variant"], old_errors["seed"])]
            all_errors = pd.concat([old_errors[keep], pd.DataFrame(errors, columns=ERROR_COLUMNS)])
            # Curves before runs: a merge killed in between is redone from .staging/ on load.
            if staged:
                _atomic_write(self.directory / "curves.csv",
                              curves[CURVE_COLUMNS].to_csv(index=False).encode())
                _atomic_write(self.directory / "runs.csv",
                              runs[RUN_COLUMNS].to_csv(index=False).encode())
            if len(all_errors) and (staged or errors):
                _atomic_write(self.directory / "errors.csv",
                              all_errors.sort_values(KEYS).to_csv(index=False).encode())
            elif not len(all_errors) and (self.directory / "errors.csv").exists():
                (self.directory / "errors.csv").unlink()
            if staged and not invocation["runs"]:  # runs a command killed before it merged
                invocation = {**invocation, "recovered": sum(len(run.runs) for run in staged)}
            self._write_meta(_combined_meta(earlier or {}, meta, invocation, runs,
                                            every or meta["curve_every"]))
            # A finished replacement's record goes before its runs: the runs are in the CSVs.
            for replacement in found.finished:
                replacement.path.unlink()
            for run in staged:
                run.path.unlink()
        return runs

    def begin_replacement(self, variant: str, settings_hash: str, seeds: list[int]) -> None:
        """Record, before anything trains, that `--force` replaces `variant` with the runs of
        `seeds` under `settings_hash`: its staged runs stay out of every reader's view until
        all are staged, then replace the variant in one merge. Staged runs of other settings
        that an earlier, unfinished replacement held are dropped (they can never finish)."""
        for run in self._staged():
            if run.runs["variant"].iloc[0] == variant and (
                    run.runs["settings_hash"].iloc[0] != settings_hash):
                run.path.unlink()
        record = {"variant": variant, "settings_hash": settings_hash, "seeds": sorted(seeds)}
        _atomic_write(self._replacement_path(variant), json.dumps(record).encode())

    def replacements(self) -> list["Replacement"]:
        """The unfinished replacements (`--force`) recorded here."""
        if not self.staging.is_dir():
            return []
        found = []
        for path in sorted(self.staging.glob(f"*{REPLACEMENT}")):
            try:
                record = json.loads(path.read_bytes())
                variant, settings, seeds = (record["variant"], record["settings_hash"],
                                            record["seeds"])
                if not (isinstance(variant, str) and isinstance(settings, str)
                        and isinstance(seeds, list) and all(type(s) is int for s in seeds)):
                    raise ValueError("a field of the wrong type")
                found.append(Replacement(path, variant, settings, tuple(seeds)))
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise StoreError(f"{path} is not a replacement record ({_reason(error)}); remove "
                                 "it to abandon that replacement") from None
        return found

    def abandon(self, variants: list[str] | None = None) -> list["Replacement"]:
        """Drop unfinished replacements (of `variants`, else all) and the runs they held back,
        leaving the stored variants as they are. Returns those dropped."""
        dropped = [r for r in self.replacements() if variants is None or r.variant in variants]
        names = {r.variant for r in dropped}
        for replacement in dropped:
            replacement.path.unlink()
        for run in self._staged():
            if run.runs["variant"].iloc[0] in names:
                run.path.unlink()
        return dropped

    def _replacement_path(self, variant: str) -> Path:
        return self.staging / f"{file_stem(variant)}{REPLACEMENT}"

    def annotate(self, updates: dict) -> None:
        """Add `updates` to meta.json (a writer's account that no merge makes)."""
        with self._read_lock(fcntl.LOCK_EX):
            self._write_meta({**(self.meta() or {"format": FORMAT}), **updates})

    def _write_meta(self, meta: dict) -> None:
        _atomic_write(self.directory / "meta.json",
                      (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())

    def _combined(self):
        """runs.csv and curves.csv with the staged runs folded in, validated together; the
        epochs per curve point of these runs (None without runs); the staged runs; meta.json
        (None where there is none). A staged
        run replaces its key; staged runs of other settings than a variant's stored ones
        replace the whole variant."""
        meta = self.meta()
        runs = self._read("runs.csv", RUN_COLUMNS, (meta or {}).get("settings", {}))
        curves = self._read("curves.csv", CURVE_COLUMNS)
        for table, name in ((runs, "runs.csv"), (curves, "curves.csv")):
            _check_experiment(table, self.directory / name, self.name)
        _check_runs(runs, self.directory / "runs.csv")
        staged, held, finished = self._replacing(self._staged())
        every = meta.get("curve_every", 1) if meta and len(runs) else _inferred_every(curves)
        for run in [*staged, *held]:
            if every is not None and run.curve_every != every:
                raise StoreError(f"staged run {run.path} stores curves every {run.curve_every} "
                                 f"epochs, the results every {every}; remove it to rerun its seeds")
            every = run.curve_every
        if staged or held:
            twice = _stacked([run.runs for run in [*staged, *held]])
            twice = twice[twice.duplicated(KEYS)]
            if len(twice):
                raise StoreError(f"{self.staging} holds {twice['variant'].iloc[0]} seed "
                                 f"{twice['seed'].iloc[0]} twice; remove one of its files")
        if staged:
            fresh = _stacked([run.runs for run in staged])
            hashes = fresh.groupby("variant")["settings_hash"].unique()
            mixed = hashes[hashes.map(len) > 1]
            if len(mixed):
                raise StoreError(f"staged runs of {mixed.index[0]} in {self.staging} disagree on "
                                 "settings; remove them to rerun those seeds")
            current = hashes.map(lambda h: h[0])
            superseded = runs["variant"].isin(current.index) & (
                runs["settings_hash"] != runs["variant"].map(current))
            replaced = _in(runs, fresh) | superseded
            gone = pd.MultiIndex.from_frame(runs.loc[replaced, KEYS])
            curves = curves[~pd.MultiIndex.from_frame(curves[KEYS]).isin(gone)
                            & ~_in(curves, fresh)]
            runs = _stacked([runs[~replaced], fresh])
            curves = _stacked([curves, *[run.curves for run in staged]])
        runs = runs.sort_values(KEYS).reset_index(drop=True)
        curves = curves.sort_values(KEYS + ["epoch"]).reset_index(drop=True)
        _check_curves(runs, curves, self.directory / "curves.csv", every or 1)
        return Combined(runs.drop(columns="line", errors="ignore"),
                        curves.drop(columns="line", errors="ignore"), every, staged, meta, held,
                        finished)

    def _replacing(self, staged: list["Staged"]):
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

    def _staged(self) -> list[Staged]:
        if not self.staging.is_dir():
            return []
        staged = []
        for path in sorted(self.staging.iterdir()):
            if path.name.startswith(TEMPORARY) or path.name.endswith(REPLACEMENT):
                continue
            try:
                rows, epochs, loss, accuracy, every = _read_staged(path)
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
                raise StoreError(f"staged run {path} is unreadable ({_reason(error)}); "
                                 "remove it to rerun its seeds") from None
            alien = [row["experiment"] for row in rows if row["experiment"] != self.name]
            if alien:
                raise StoreError(f"staged run {path} belongs to {alien[0]}, not "
                                 f"{self.name}; remove it")
            runs = pd.DataFrame(rows, columns=RUN_COLUMNS)
            for table, name in ((runs, "runs.csv"), (curves, "curves.csv")):
                where = pd.Series([f"{name[:-5]} row {i + 1}" for i in range(len(table))],
                                  index=table.index)
                _check_values(table, name, path, where, staged=True)
            staged.append(Staged(path, _typed(runs, "runs.csv"), _typed(curves, "curves.csv"),
                                 every))
        return staged

    def _read(self, name: str, columns: list[str], recorded: dict | None = None) -> pd.DataFrame:
        """A CSV of this store with exactly `columns`, each row numbered by its `line` in the file;
        columns a file predates are filled (`_older_columns`, from the `recorded` settings)."""
        path = self.directory / name
        if not path.exists():
            return pd.DataFrame(columns=columns).astype({c: int for c in INTEGERS[name]})
        try:
            data = path.read_bytes()
            table = pd.read_csv(io.BytesIO(data), dtype={c: str for c in TEXT if c in columns})
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as error:
            raise StoreError(f"{path} is malformed or unreadable ({_reason(error)}); "
                             "move it away to rerun") from None
        if not data.endswith(b"\n"):
            raise StoreError(f"{path} line {len(table) + 1} is cut short (the file does not end "
                             "with a newline); restore it, or move the file away to rerun")
        if name == "runs.csv":
            table = _older_columns(table, recorded or {})
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise StoreError(f"{path} lacks the columns {', '.join(missing)}; "
                             "it was not written by this version")
        extra = [c for c in table.columns if c not in columns]
        if extra:
            raise StoreError(f"{path} has unknown columns {', '.join(map(str, extra))}; "
                             "it was not written by this version")
        table = table.assign(line=np.arange(2, len(table) + 2))
        _check_values(table, name, path, "line " + table["line"].astype(str))
        return _typed(table[columns + ["line"]], name)

    @contextmanager
    def _read_lock(self, kind: int):
        """Readers wait while a merge rewrites the files (where the directory lets them lock)."""
        try:
            handle = _open_lock(self.directory / READ_LOCK)
        except OSError:
            if kind == fcntl.LOCK_EX:
                raise
            yield
            return
        try:
            fcntl.flock(handle, kind)
            yield
        finally:
            os.close(handle)

    def _remove_temporaries(self) -> None:
        """Files a killed writer left half-written: only names the store itself makes."""
        for folder in (self.directory, self.staging):
            for path in folder.glob(f"{TEMPORARY}*"):
                if MADE_TEMPORARY.fullmatch(path.name) and path.is_file() and not path.is_symlink():
                    path.unlink()


def _open_lock(path: Path) -> int:
    """Open (or create) a lock file, never through a symbolic link and only if it is a regular
    file: a lock must not truncate or write a file that is not the store's own."""
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
    except OSError as error:
        if error.errno != errno.ELOOP:  # ELOOP: a symbolic link, refused below
            raise
    else:
        if stat.S_ISREG(os.fstat(handle).st_mode):
            return handle
        os.close(handle)
    raise StoreError(f"{path} is a symbolic link or not a regular file; the store locks its own "
                     "file there: remove it and run again")


def file_stem(variant: str) -> str:
    """A variant's name made safe and short for a file name: its plain characters (at most 60,
    no path separators, no leading dot) and a digest of the whole name, so two stems never meet."""
    plain = re.sub(r"[^A-Za-z0-9_=,+\[\]-]", "_", variant)[:60]
    return f"{plain}-{hashlib.sha256(variant.encode()).hexdigest()[:8]}"


def _older_columns(runs: pd.DataFrame, recorded: dict) -> pd.DataFrame:
    """The columns a runs.csv written before they existed lacks: how a run was made, empty; a
    setting, per variant from meta.json's `recorded` settings, else the field's default (what
    such runs ran with: a field counts in the hash only away from its default)."""
    later = [c for c in SETTINGS_COLUMNS if c not in runs.columns and c not in FORMAT_1_COLUMNS]
    if "variant" not in runs.columns:
        return runs
    defaults = {f.name: f.default for f in dataclasses.fields(Setup)}
    return runs.assign(
        **{c: None for c in PROVENANCE_COLUMNS if c not in runs.columns},
        **{c: runs["variant"].map(lambda v, c=c: recorded.get(v, {}).get(c, defaults[c]))
           for c in later})


def _check_values(table: pd.DataFrame, name: str, path: Path, where: pd.Series,
                  staged: bool = False) -> None:
    """Refuse, naming `path` (a CSV, or a `staged` file holding the rows of `name`), row and
    column and saying what to do, a value the schema of `name` does not allow (for runs, also
    settings that are not those their hash stands for)."""
    problem = table_problem(table, SCHEMAS[name], where)
    if problem is None and name == "runs.csv":
        problem = settings_problem(table, where)
    if problem and staged:
        raise StoreError(f"staged run {path} {problem}; remove it to rerun its seeds")
    if problem:
        raise StoreError(f"{path} {problem}; correct it, or move the file away to rerun")


def _typed(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """A checked table with its integers as int and its other numbers as float."""
    numbers = {c.name: pd.to_numeric(table[c.name]).astype(float) for c in SCHEMAS[name]
               if c.kind == "number" or (c.kind == "integer" and not c.required)}
    return table.assign(**numbers).astype({c: int for c in INTEGERS[name]})


def _combined_meta(earlier: dict, meta: dict, invocation: dict, runs: pd.DataFrame,
                   curve_every: int) -> dict:
    """This command's provenance on top of the earlier ones' (under them if it stored
    nothing): variants are united (a variant's settings follow its stored runs), and every
    command that stored, failed or `recovered` runs (merged those a killed command staged) is
    kept in `invocations`, the latest that stored runs also at the top level."""
    stored = runs.groupby("variant")["settings_hash"].first().to_dict()
    # Provenance describes the commands that stored runs: one that stored none only heals.
    newest = (earlier, meta) if invocation["runs"] else (meta, earlier)
    combined = {**newest[0], **newest[1], "format": FORMAT, "curve_every": int(curve_every),
                "seeds": sorted(set(runs["seed"].tolist()))}
    for key in ("settings", "descriptions", "cell_notes"):
        combined[key] = dict(earlier.get(key, {}))
    for variant, settings in meta["settings"].items():
        if stored.get(variant, hash_of_settings(settings)) == hash_of_settings(settings):
            combined["settings"][variant] = settings
            combined["descriptions"][variant] = meta["descriptions"][variant]
            combined["cell_notes"].pop(variant, None)
            if variant in meta.get("cell_notes", {}):
                combined["cell_notes"][variant] = meta["cell_notes"][variant]
    if not combined["cell_notes"]:
        del combined["cell_notes"]
    combined["variants"] = list(dict.fromkeys(earlier.get("variants", []) + meta["variants"]))
    invocations = [i for i in earlier.get("invocations", [])
                   if i.get("started") != invocation["started"]]
    # This command's earlier merges may have recovered runs that this one no longer sees staged.
    recovered = sum(i.get("recovered", 0) for i in earlier.get("invocations", [])
                    if i.get("started") == invocation["started"]) + invocation.get("recovered", 0)
    if recovered:
        invocation = {**invocation, "recovered": recovered}
    if invocation["runs"] or invocation["failed"] or recovered:
        invocations.append(invocation)
    combined["invocations"] = invocations
    latest = [i for i in invocations if i["runs"]] or [invocation]
    for key in ("command", "wall_seconds", "runs"):
        combined[key] = latest[-1][key]
    return combined


def _check_experiment(table: pd.DataFrame, path: Path, experiment: str) -> None:
    other = table[table["experiment"] != experiment]
    if len(other):
        raise StoreError(f"{path} line {_line(other.iloc[0])} belongs to experiment "
                         f"{other['experiment'].iloc[0]!r}, not {experiment!r}")


def _check_runs(runs: pd.DataFrame, path: Path) -> None:
    """One row per (variant, seed), one settings hash per variant."""
    repeated = runs[runs.duplicated(KEYS)]
    if len(repeated):
        row = repeated.iloc[0]
        raise StoreError(f"{path} line {row['line']} repeats {row['variant']} seed {row['seed']}; "
                         "remove one of the two rows")
    first = runs.groupby("variant")["settings_hash"].transform("first")
    mixed = runs[runs["settings_hash"] != first]
    if len(mixed):
        row = mixed.iloc[0]
        raise StoreError(f"{path} line {row['line']} holds {row['variant']} seed {row['seed']} made "
                         "with other settings than the variant's other runs; move those rows away")


def _check_curves(runs: pd.DataFrame, curves: pd.DataFrame, path: Path, every: int) -> None:
    """Every run has its curve, with exactly the points its epochs and `every` give (and, with a
    point every epoch, its last point's loss the run's final loss)."""
    repeated = curves[curves.duplicated(KEYS + ["epoch"])]
    if len(repeated):
        row = repeated.iloc[0]
        raise StoreError(f"{path} line {_line(row)} repeats {row['variant']} seed {row['seed']} "
                         f"epoch {row['epoch']}")
    epochs = runs.set_index(KEYS)["epochs"]
    points = curves.join(epochs.rename("run_epochs"), on=KEYS)
    orphan = points[points["run_epochs"].isna()]
    if len(orphan):
        row = orphan.iloc[0]
        raise StoreError(f"{path} line {_line(row)} has a curve for {row['variant']} seed "
                         f"{row['seed']}, which has no run in runs.csv")
    expected = (points["epoch"] == points["run_epochs"]) | (
        (points["epoch"] % every == 0) & (points["epoch"] > 0) & (points["epoch"] < points["run_epochs"]))
    if not expected.all():
        row = points[~expected].iloc[0]
        raise StoreError(f"{path} line {_line(row)}: epoch {row['epoch']} is not a curve point of "
                         f"{row['variant']} seed {row['seed']} ({row['run_epochs']:.0f} epochs, one "
                         f"point every {every})")
    counts = points.groupby(KEYS).size().reindex(epochs.index, fill_value=0)
    short = counts[counts != [curve_points(e, every) for e in epochs]]
    if len(short):
        variant, seed = short.index[0]
        raise StoreError(f"{path} lacks curve points of {variant} seed {seed} "
                         f"({short.iloc[0]} of {curve_points(epochs[(variant, seed)], every)})")
    if every == 1:  # a run's final loss is its last epoch's: the curve's last point
        last = points[points["epoch"] == points["run_epochs"]].join(
            runs.set_index(KEYS)["final_loss"], on=KEYS)
        other = last[~np.isclose(last["loss"].to_numpy(float), last["final_loss"].to_numpy(float),
                                 rtol=1e-6, atol=0)]
        if len(other):
            row = other.iloc[0]
            raise StoreError(f"{path} line {_line(row)}: loss {row['loss']:g} is not the final "
                             f"loss of {row['variant']} seed {row['seed']} in runs.csv "
                             f"({row['final_loss']:g}); restore it, or move both files away")


def _stacked(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Tables stacked, the empty ones left out (their column types are unknown)."""
    kept = [t for t in tables if len(t)]
    return pd.concat(kept, ignore_index=True) if kept else tables[0]


def _inferred_every(curves: pd.DataFrame) -> int | None:
    """Without meta.json: the epochs per curve point, read off the first point of the curves."""
    return int(curves["epoch"].min()) if len(curves) else None


def _line(row) -> str:
    line = row.get("line")
    return "(staged)" if line is None or pd.isna(line) else str(int(line))


def _in(table: pd.DataFrame, other: pd.DataFrame):
    return pd.MultiIndex.from_frame(table[KEYS]).isin(pd.MultiIndex.from_frame(other[KEYS]))


def _plain(value):
    """JSON for numpy scalars in a staged row."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__}")


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return " ".join(str(error).split()[:20]) or type(error).__name__


def _read_staged(path: Path) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray, int]:
    """A staged file's run rows, curve labels, loss and accuracy (a row per run) and curve_every;
    also a single run staged as JSON by earlier versions."""
    if path.suffix == ".json":
        payload = json.loads(path.read_bytes())
        curves = payload["curves"]
        return ([payload["row"]], np.asarray(curves["epoch"]), np.asarray([curves["loss"]]),
                np.asarray([curves["accuracy"]]), int(payload["curve_every"]))
    with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as data:
        header = json.loads(data["header"].tobytes())
        loss, accuracy = data["loss"], data["accuracy"]
        if loss.shape != accuracy.shape or loss.shape != (len(header["rows"]), len(data["epoch"])):
            raise ValueError("its curves do not match its runs")
        return header["rows"], data["epoch"], loss, accuracy, int(header["curve_every"])


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMPORARY}{path.name}.")
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

