"""What the store's files hold, declared once: every column of runs.csv, curves.csv and
errors.csv with its kind and bounds, the row a finished run becomes, the keys of meta.json with
their types, and the settings fingerprint. Writing and reading share these tables;
`table_problem` and `meta_problem` check a table or a meta.json against them (arrays and dicts
in, the first problem as one phrase out).
"""

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from echo.experiment import declared_variant
from echo.scoring import SCORES, pace
from echo.setup import Setup

FORMAT = 1
# The settings the fingerprint counts at every value; any other counts only away from its
# default, so that a setting added at its default leaves every stored fingerprint as it was.
HASHED_ALWAYS = ("framing", "lag", "window", "units", "batch_size", "stateful", "carry_state",
                   "missing", "out_steps", "cell", "epochs", "length", "n_unique", "eval_sequences")
HASH_LENGTH = 12


@dataclass(frozen=True)
class Column:
    """A column: its kind ('text', 'integer', 'number' or 'flag'), whether a sound row always
    fills it, and the closed bounds a number keeps (numbers are always finite)."""

    name: str
    kind: str
    required: bool = True
    low: float = -math.inf
    high: float = math.inf

    def describe(self) -> str:
        kind = {"text": "text", "integer": "an integer", "number": "a finite number",
                "flag": "True or False"}[self.kind]
        if self.low > -math.inf and self.high < math.inf:
            return f"{kind} in [{self.low:g}, {self.high:g}]"
        return f"{kind} of at least {self.low:g}" if self.low > -math.inf else kind


_KINDS = {int: "integer", bool: "flag", str: "text", float: "number"}
# A run's settings, one column each, derived from Setup's fields (epochs comes earlier): a field
# added to Setup adds its column.
SETTINGS = [Column(f.name, _KINDS[f.type]) for f in dataclasses.fields(Setup) if f.name != "epochs"]
SETTINGS_COLUMNS = [c.name for c in SETTINGS]
# How a run was made: its engine, the workers' backend, the device it trained on and when it
# finished. Optional: empty for runs stored before they were recorded.
PROVENANCE = [Column(name, "text", required=False)
              for name in ("engine", "backend", "device", "finished_at")]
PROVENANCE_COLUMNS = [c.name for c in PROVENANCE]
RUNS = [
    Column("experiment", "text"), Column("variant", "text"), Column("seed", "integer", low=0),
    Column("epochs", "integer", low=1), Column("eval_accuracy", "number", low=0, high=1),
    *[Column(name, "number", required=False, low=0, high=1) for name in SCORES[1:]],
    Column("final_loss", "number", low=0), Column("train_seconds", "number", low=0),
    Column("compile_seconds", "number", required=False, low=0),
    Column("ms_per_epoch", "number", required=False, low=0),
    Column("epochs_to_99", "integer", required=False, low=1),
    Column("settings_hash", "text"), *PROVENANCE, *SETTINGS]
CURVES = [Column("experiment", "text"), Column("variant", "text"),
          Column("seed", "integer", low=0), Column("epoch", "integer", low=1),
          Column("loss", "number", low=0), Column("accuracy", "number", low=0, high=1)]
ERRORS = [Column("experiment", "text"), Column("variant", "text"),
          Column("seed", "integer", low=0), Column("settings_hash", "text", required=False),
          Column("error", "text")]
SCHEMAS = {"runs.csv": RUNS, "curves.csv": CURVES, "errors.csv": ERRORS}
RUN_COLUMNS = [c.name for c in RUNS]
CURVE_COLUMNS = [c.name for c in CURVES]
ERROR_COLUMNS = [c.name for c in ERRORS]
TEXT = sorted({c.name for schema in SCHEMAS.values() for c in schema if c.kind == "text"})
KEYS = ["variant", "seed"]  # a run's key in every table


def absent_values(name: str) -> dict:
    """The columns a file `name` may lack, with the value each then reads as: an optional column
    empty, a setting outside HASHED_ALWAYS its default (the fingerprint already says that every
    run stored before the setting existed ran at it; a run that did not fails its hash check).
    So a column is added in one place, and files written before it still read."""
    defaults = {f.name: f.default for f in dataclasses.fields(Setup)}
    return {c.name: None if not c.required else defaults[c.name] for c in SCHEMAS[name]
            if not c.required or (c in SETTINGS and c.name not in HASHED_ALWAYS)}


def run_row(task, result, made: dict | None = None) -> dict:
    """The row of runs.csv a finished task becomes; `made` gives its engine and backend."""
    setup = task.setup
    made = made or {}
    return {
        "experiment": task.experiment, "variant": task.variant, "seed": task.seed,
        "epochs": setup.epochs, **result.scores, "final_loss": result.final_loss,
        "train_seconds": result.train_seconds, "compile_seconds": result.curves.compile_seconds,
        **pace(result.curves.accuracy, result.train_seconds, result.curves.compile_seconds,
               setup.epochs),
        "settings_hash": settings_hash(setup),
        **{name: getattr(setup, name) for name in SETTINGS_COLUMNS},
        "engine": made.get("engine"), "backend": made.get("backend"), "device": result.device,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def run_problem(task, result) -> str | None:
    """Why a finished run cannot be stored (its row breaks the schema: a loss or score that is
    not a finite number in bounds; or a curve point that is not), or None. Such a run is a
    failed run: recorded in errors.csv, never staged."""
    found = table_problem(pd.DataFrame([run_row(task, result)]), RUNS, pd.Series(["its row"]))
    if found:
        return found
    for name, values, high in (("loss", result.curves.loss, math.inf),
                               ("accuracy", result.curves.accuracy, 1.0)):
        values = np.asarray(values, float)
        with np.errstate(invalid="ignore"):
            bad = ~(np.isfinite(values) & (values >= 0) & (values <= high))
        if bad.any():
            epoch = int(bad.argmax())
            return f"its curve, epoch {epoch + 1}: {name} {values[epoch]!r} is not a finite number"
    return None


def curve_points(epochs: int, every: int) -> int:
    """How many curve rows a run of `epochs` has when stored every `every` epochs."""
    return -(-epochs // every)


def settings_hash(setup) -> str:
    """A short fingerprint of a variant's settings and the results format."""
    return hash_of_settings(dataclasses.asdict(setup))


def hash_of_settings(settings: dict) -> str:
    """The fingerprint of a variant's settings as a dict (those outside HASHED_ALWAYS count
    only away from their default)."""
    defaults = {f.name: f.default for f in dataclasses.fields(Setup)}
    kept = {k: v for k, v in settings.items() if k in HASHED_ALWAYS or v != defaults.get(k)}
    text = json.dumps({"format": FORMAT, **kept}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def table_problem(table: pd.DataFrame, schema: list[Column], where: pd.Series) -> str | None:
    """The first value of `table` its schema does not allow, as 'WHERE, column C: V is not
    ...' (`where` names each row: 'line 3', 'row 2'); None when every value is allowed."""
    for column in schema:
        values = table[column.name]
        empty = np.array(values.isna(), bool)
        if values.dtype == object:  # values as staged, not as parsed: "" is empty too
            empty |= values.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(bool)
        optional = empty if not column.required else np.zeros(len(values), bool)
        if column.kind == "text":
            bad = empty & ~optional
        elif column.kind == "flag":
            bad = (np.zeros(len(values), bool) if pd.api.types.is_bool_dtype(values)
                   else ~values.isin([True, False, "True", "False"]).to_numpy() & ~optional)
        else:
            bad = ~_allowed_numbers(values, column) & ~optional
        if bad.any():
            row = bad.argmax()
            shown = "empty" if empty[row] else repr(_plain(values.iloc[row]))
            return f"{where.iloc[row]}, column {column.name}: {shown} is not {column.describe()}"
    return None


def _allowed_numbers(values: pd.Series, column: Column) -> np.ndarray:
    """Where `values` are finite numbers within the column's bounds (integers, if it holds
    them); parsed columns are checked as arrays, staged values one by one (a flag is no number)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(float)
    else:
        numbers = pd.to_numeric(values.where(~values.map(_is_flag), None),
                                errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        allowed = np.isfinite(numbers) & (numbers >= column.low) & (numbers <= column.high)
        if column.kind == "integer":
            allowed &= numbers == np.round(numbers)
    return allowed


def settings_problem(runs: pd.DataFrame, where: pd.Series) -> str | None:
    """The first run whose settings columns (and epochs) are not those its settings hash stands
    for, or whose epochs to 99% lie beyond its epochs; None when all agree."""
    late = runs["epochs_to_99"].notna() & (pd.to_numeric(runs["epochs_to_99"], errors="coerce")
                                           > pd.to_numeric(runs["epochs"], errors="coerce"))
    if late.any():
        row = late.to_numpy().argmax()
        return (f"{where.iloc[row]}, column epochs_to_99: {_plain(runs['epochs_to_99'].iloc[row])} "
                f"lies beyond the run's {_plain(runs['epochs'].iloc[row])} epochs")
    distinct = runs.drop_duplicates(["epochs", *SETTINGS_COLUMNS, "settings_hash"])
    for index, row in distinct.iterrows():
        if hash_of_settings(row_settings(row)) != row["settings_hash"]:
            return (f"{where.loc[index]}: its settings columns are not those its settings_hash "
                    f"{row['settings_hash']} stands for (a setting was changed by hand)")
    return None


def row_settings(row: pd.Series) -> dict:
    """A stored run's settings (its epochs and settings columns), typed as a Setup's fields."""
    kinds = {f.name: f.type for f in dataclasses.fields(Setup)}
    return {name: _typed(row[name], kinds[name]) for name in ["epochs", *SETTINGS_COLUMNS]}


def grid_hash(settings: dict) -> str:
    """The fingerprint of a variant's settings but its learning rate: what every rate of one
    variant's rate grid must share."""
    return hash_of_settings({**settings, "learning_rate": None})


def grid_hashes(runs: pd.DataFrame) -> dict[str, str]:
    """Each stored variant's `grid_hash` (a variant's runs share one settings hash)."""
    distinct = runs.drop_duplicates("variant")
    return {row["variant"]: grid_hash(row_settings(row)) for _, row in distinct.iterrows()}


def grid_conflict(grids: dict[str, str]) -> tuple[str, str] | None:
    """Of variants and their `grid_hash`, the first two of one rate grid (the same declared
    variant at other learning rates) that differ in more than the rate; None where none do."""
    seen = {}
    for variant, grid in grids.items():
        first = seen.setdefault(declared_variant(variant), (variant, grid))
        if first[1] != grid:
            return first[0], variant
    return None


def grid_problem(runs: pd.DataFrame) -> str | None:
    """The first variant whose runs at other learning rates (`v[learning_rate=r]`) differ from
    it in more than the rate, as 'A and B differ ...'; None when every rate grid is one setting."""
    found = grid_conflict(grid_hashes(runs))
    return f"{found[0]} and {found[1]} differ in more than the learning rate" if found else None


@dataclass(frozen=True)
class Key:
    """A meta.json key: the type its value has and whether every meta.json has it; `items`,
    the type of a list's items or a dict's values."""

    kind: type
    required: bool = True
    items: type | None = None


_TEXT_OR_NONE = (str, type(None))
INVOCATION = {"command": Key(str), "started": Key(str), "runs": Key(int), "failed": Key(int),
              "status": Key(str), "wall_seconds": Key((int, float)),
              "ended": Key(_TEXT_OR_NONE, False), "engine": Key(str, False),
              "backend": Key(str, False), "devices": Key(list, False, str),
              "git_commit": Key(_TEXT_OR_NONE, False), "recovered": Key(int, False)}
META = {"format": Key(int), "experiment": Key(str), "question": Key(str), "claim": Key(str),
        "notes": Key(str), "baseline": Key(str), "variants": Key(list, items=str),
        "descriptions": Key(dict, items=str), "settings": Key(dict, items=dict),
        "curve_every": Key(int), "keras_backend": Key(str), "invocations": Key(list, items=dict),
        "command": Key(str), "seeds": Key(list, items=int), "runs": Key(int, False),
        "wall_seconds": Key((int, float), False), "packages": Key(dict, False, str),
        "machine": Key(dict, False), "git_commit": Key(_TEXT_OR_NONE, False),
        "seeding": Key(dict, False), "cell_notes": Key(dict, False, str)}


def meta_problem(meta: dict) -> str | None:
    """The first key of a meta.json that is missing or of the wrong type; None when it is sound."""
    problem = _keys_problem(meta, META, "")
    if problem:
        return problem
    if meta["curve_every"] < 1:
        return f"curve_every is {meta['curve_every']}, not a positive integer"
    for i, entry in enumerate(meta["invocations"]):
        problem = _keys_problem(entry, INVOCATION, f"invocations[{i}].")
        if problem:
            return problem
    return None


def _keys_problem(record: dict, keys: dict, prefix: str) -> str | None:
    for name, key in keys.items():
        if name not in record:
            if key.required:
                return f"the key {prefix}{name} is missing"
            continue
        value = record[name]
        if not _is(value, key.kind):
            return f"{prefix}{name} is {json.dumps(value)[:40]}, not {_kind_name(key.kind)}"
        members = value.values() if isinstance(value, dict) else value
        if key.items is not None and not all(_is(v, key.items) for v in members):
            return f"{prefix}{name} holds a value that is not {_kind_name(key.items)}"
    return None


def _is(value, kind) -> bool:
    """isinstance, where a flag is not a number."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)


def _kind_name(kind) -> str:
    names = {str: "text", int: "an integer", float: "a number", list: "a list",
             dict: "an object", type(None): "null"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names[k] for k in kinds)


def _typed(value, kind: type):
    """A settings value read from a CSV as its Setup field's type (for the fingerprint)."""
    if kind is bool:
        return value in (True, "True")
    return kind(value)


def _is_flag(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
