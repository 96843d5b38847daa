"""Checks of what a results directory holds as it is read back: each CSV and meta.json against
its schema, runs one per (variant, seed) with one settings hash per variant, and curves that match their
runs. Each refusal is a StoreError naming the file and line and saying what to do."""

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from bench.store.files import StoreError, reason
from bench.store.schema import (
    FORMAT,
    KEYS,
    SCHEMAS,
    TEXT,
    absent_values,
    curve_points,
    meta_problem,
    settings_problem,
    table_problem,
)

INTEGERS = {name: [c.name for c in schema if c.kind == "integer" and c.required]
            for name, schema in SCHEMAS.items()}


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV of the store with exactly its schema's columns (those it may lack filled, see
    `absent_values`), checked and typed, each row numbered by its `line` in the file; an
    absent file is an empty table."""
    name = path.name
    columns = [c.name for c in SCHEMAS[name]]
    if not path.exists():
        return pd.DataFrame(columns=columns).astype({c: int for c in INTEGERS[name]})
    try:
        data = path.read_bytes()
        table = pd.read_csv(io.BytesIO(data), dtype={c: str for c in TEXT if c in columns})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as error:
        raise StoreError(f"{path} is malformed or unreadable ({reason(error)}); "
                         "move it away to rerun") from None
    if not data.endswith(b"\n"):
        raise StoreError(f"{path} line {len(table) + 1} is cut short (the file does not end "
                         "with a newline); restore it, or move the file away to rerun")
    table = table.assign(**{c: value for c, value in absent_values(name).items()
                            if c not in table.columns})
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise StoreError(f"{path} lacks the columns {', '.join(missing)}; "
                         "it was not written by this version")
    extra = [c for c in table.columns if c not in columns]
    if extra:
        raise StoreError(f"{path} has unknown columns {', '.join(map(str, extra))}; "
                         "it was not written by this version")
    table = table.assign(line=np.arange(2, len(table) + 2))
    check_values(table, name, path, "line " + table["line"].astype(str))
    return typed(table[columns + ["line"]], name)


def read_meta(path: Path) -> dict | None:
    """A meta.json of this format with every key it must have, or None where there is none."""
    try:
        found = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StoreError(f"{path} is unreadable or not valid JSON ({reason(error)}); "
                         "move it away and run again to rewrite it") from None
    if not isinstance(found, dict):
        raise StoreError(f"{path} is not a JSON object; move it away and run again to rewrite it")
    if found.get("format") != FORMAT:
        raise StoreError(f"{path} was written by results format {found.get('format')}, this "
                         f"version reads format {FORMAT}; use another --results directory")
    problem = meta_problem(found)
    if problem:
        raise StoreError(f"{path} is not as this version writes it: {problem}; restore it, "
                         "or move it away and run again to rewrite it")
    return found


def check_values(table: pd.DataFrame, name: str, path: Path, where: pd.Series,
                 staged: bool = False) -> None:
    """Refuse, naming `path` (a CSV, or a `staged` file holding the rows of `name`), row and
    column and saying what to do, a value the schema of `name` does not allow (for runs, also
    settings that are not those their hash stands for)."""
    problem = table_problem(table, SCHEMAS[name], where)
    if problem is None and name == "runs.csv":
        problem = settings_problem(table, where)
    if problem and staged:
        raise StoreError(f"staged run {path} {problem}")
    if problem:
        raise StoreError(f"{path} {problem}; correct it, or move the file away to rerun")


def typed(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """A checked table with its integers as int and its other numbers as float."""
    numbers = {c.name: pd.to_numeric(table[c.name]).astype(float) for c in SCHEMAS[name]
               if c.kind == "number" or (c.kind == "integer" and not c.required)}
    return table.assign(**numbers).astype({c: int for c in INTEGERS[name]})


def check_experiment(table: pd.DataFrame, path: Path, experiment: str) -> None:
    """Every row of `table` belongs to `experiment`."""
    other = table[table["experiment"] != experiment]
    if len(other):
        raise StoreError(f"{path} line {line(other.iloc[0])} belongs to experiment "
                         f"{other['experiment'].iloc[0]!r}, not {experiment!r}")


def check_runs(runs: pd.DataFrame, path: Path) -> None:
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


def check_curves(runs: pd.DataFrame, curves: pd.DataFrame, path: Path, every: int) -> None:
    """Every run has its curve, with exactly the points its epochs and `every` give (and, with a
    point every epoch, its last point's loss the run's final loss)."""
    repeated = curves[curves.duplicated(KEYS + ["epoch"])]
    if len(repeated):
        row = repeated.iloc[0]
        raise StoreError(f"{path} line {line(row)} repeats {row['variant']} seed {row['seed']} "
                         f"epoch {row['epoch']}")
    epochs = runs.set_index(KEYS)["epochs"]
    points = curves.join(epochs.rename("run_epochs"), on=KEYS)
    orphan = points[points["run_epochs"].isna()]
    if len(orphan):
        row = orphan.iloc[0]
        raise StoreError(f"{path} line {line(row)} has a curve for {row['variant']} seed "
                         f"{row['seed']}, which has no run in runs.csv")
    expected = (points["epoch"] == points["run_epochs"]) | (
        (points["epoch"] % every == 0) & (points["epoch"] > 0) & (points["epoch"] < points["run_epochs"]))
    if not expected.all():
        row = points[~expected].iloc[0]
        raise StoreError(f"{path} line {line(row)}: epoch {row['epoch']} is not a curve point of "
                         f"{row['variant']} seed {row['seed']} ({row['run_epochs']:.0f} epochs, one "
                         f"point every {every})")
    counts = points.groupby(KEYS).size().reindex(epochs.index, fill_value=0)
    short = counts[counts != [curve_points(e, every) for e in epochs]]
    if len(short):
        variant, seed = short.index[0]
        raise StoreError(f"{path} lacks curve points of {variant} seed {seed} "
                         f"({short.iloc[0]} of {curve_points(epochs[(variant, seed)], every)})")
    if every == 1:
        _check_final_loss(runs, points, path)


def _check_final_loss(runs: pd.DataFrame, points: pd.DataFrame, path: Path) -> None:
    """A run's final loss is its last epoch's: the last point of a curve stored every epoch."""
    last = points[points["epoch"] == points["run_epochs"]].join(
        runs.set_index(KEYS)["final_loss"], on=KEYS)
    other = last[~np.isclose(last["loss"].to_numpy(float), last["final_loss"].to_numpy(float),
                             rtol=1e-6, atol=0)]
    if len(other):
        row = other.iloc[0]
        raise StoreError(f"{path} line {line(row)}: loss {row['loss']:g} is not the final "
                         f"loss of {row['variant']} seed {row['seed']} in runs.csv "
                         f"({row['final_loss']:g}); restore it, or move both files away")


def line(row) -> str:
    """The file line a row was read from, or '(staged)' for a staged run's."""
    found = row.get("line")
    return "(staged)" if found is None or pd.isna(found) else str(int(found))
