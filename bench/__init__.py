"""bench: run echo experiments over many seeds, store tidy results, report them.

From Python, `bench.load(results_dir)` gives a results directory's runs and curves as two
DataFrames; the figures of `bench.report.figures` return their matplotlib objects.
"""

from pathlib import Path


def load(results="results", names=None):
    """Every experiment's runs and curves under `results` (or only `names`) as two DataFrames:
    the rows of each runs.csv and curves.csv, validated; each run also names its engine,
    backend, device and when it finished (empty for runs stored before those were kept)."""
    # Late: pandas, which a command that reads no results does not need.
    from bench.store.directory import load_results

    return load_results(Path(results), names)
