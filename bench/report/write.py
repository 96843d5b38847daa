"""Markdown reports with figures, regenerated from results/ alone (never trains): a page per
experiment (`bench.report.page`) and the index (`bench.report.index`), each experiment read on its own."""

from pathlib import Path

from bench.report.answers import decided
from bench.report.index import index
from bench.report.page import experiment_report
from bench.store.directory import ExperimentStore, Results, StoreError
from bench.store.schema import grid_problem
from echo.experiment import Experiment
from experiments import Registry

MARKER = ".echo-bench-reports"  # marks a folder as written by `bench report`


def write_reports(results: Path, out: Path, registry: Registry, names: list[str] | None = None,
                  progress=None) -> tuple[list[str], list[str]]:
    """Write reports/NAME.md (with figures) for every experiment in `results`, and the index,
    in the order of `registry` (the experiments declared), then any others by name; given
    `names`, only their pages (the index, which reads every experiment, is left as it is).
    Each experiment is read on its own: returns those reported and, a line each, those whose
    results could not be read. `progress(line)` hears of each experiment as it starts."""
    found = {p.parent.name for p in [*results.glob("*/runs.csv"), *results.glob("*/meta.json")]}
    available = [n for n in registry if n in found] + sorted(n for n in found if n not in registry)
    unknown = [n for n in names or [] if n not in available]
    if unknown:
        raise StoreError(f"no results for {unknown[0]!r} in {results}/; found "
                         f"{', '.join(available) or 'none'}")
    loaded, problems = {}, []
    for name in available:
        try:
            contents = _load(results / name)
        except StoreError as error:
            problems.append(str(error))
            continue
        if contents is not None:
            loaded[name] = contents
    chosen = [n for n in names or available if n in loaded]
    empty = [n for n in names or [] if n not in loaded and n in available]
    problems += [f"{results / n}/runs.csv holds no runs" for n in empty
                 if not any(str(results / n) in p for p in problems)]
    if not chosen:
        if problems:
            raise StoreError(problems[0])
        raise StoreError(f"no results in {results}/ (run `python -m bench run` first)")
    own_folder(out)
    judged = {name: decided(registry.get(name), loaded[name].runs, loaded[name].meta)
              for name in (chosen if names else loaded)}
    for number, name in enumerate(chosen, 1):
        if progress:
            progress(f"[{number}/{len(chosen)}] {name}")
        (out / f"{name}.md").write_text(experiment_report(
            name, loaded[name], results, out, judged[name], registry,
            qualifications(registry.get(name), loaded)))
    if not names:
        (out / "README.md").write_text(index(loaded, judged, results, registry, out))
    return chosen, problems


def own_folder(out: Path) -> None:
    """Make `out` a reports folder, refusing one that holds files `bench report` did not write."""
    if out.exists() and not out.is_dir():
        raise StoreError(f"--out {out} is a file, not a folder")
    if out.is_dir() and not (out / MARKER).is_file():
        others = sorted(p.name for p in out.iterdir())
        if others:
            raise StoreError(f"{out}/ holds files `bench report` did not write ({', '.join(others[:3])}"
                             f"{', ...' if len(others) > 3 else ''}); choose a new or empty --out folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / MARKER).write_text("Written by `python -m bench report`; it rewrites this folder.\n")
    except OSError as error:
        raise StoreError(f"cannot write reports in {out}: {error.strerror or error}") from None


def _load(directory: Path) -> Results | None:
    """An experiment's runs, curves and meta; None when it holds no runs."""
    loaded = ExperimentStore(directory).load()
    if loaded.runs.empty:
        return None
    if loaded.meta is None:
        raise StoreError(f"{directory / 'meta.json'} is missing; run the command that made these "
                         "results again to restore it (finished runs are not retrained)")
    mixed = grid_problem(loaded.runs)
    if mixed:  # a grid compares rates at one setting; else its answers would mix settings
        raise StoreError(f"{directory}/runs.csv: {mixed} (say, their epochs); rerun every rate "
                         "with one setting (--force), or move one out")
    return loaded


def qualifications(experiment: Experiment | None, loaded: dict[str, Results]) -> list[str]:
    """The experiments that qualify `experiment`'s answer (its `qualified_by`, those with
    results), a line each: a link to its page and the question it asks, not its answers (read
    them there)."""
    return [f"[{other}]({other}.md) tests where this answer holds: "
            f"{loaded[other].meta['question']}"
            for other in (experiment.qualified_by if experiment else ()) if other in loaded]
