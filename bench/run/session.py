"""One `run` command's session: train the plan's tasks, stage each finished run at once,
merge now and then, and end with an exit status that says whether all is stored."""

import datetime
import signal
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bench.run import runner
from bench.run.cluster import ClusterError
from bench.store.provenance import invocation, provenance
from bench.store.schema import run_problem, settings_hash

MERGE_EVERY_SECONDS = 60


class Terminated(KeyboardInterrupt):
    """SIGTERM: stop as for Ctrl-C, keeping what finished."""


def execute(plan, stores, experiments, options) -> int:
    """Run the plan's tasks as `options` (a RunOptions) ask, staging each finished run at once
    and merging now and then; the exit status says whether every task asked for is stored.
    `experiments` as declared (their baseline and question go to meta.json even when only some
    variants run)."""
    if plan.skipped:
        print(f"{plan.skipped} of {len(plan.tasks)} runs already in {options.results}/, skipped "
              "(--force reruns them)")
    journal = Journal(stores, experiments, plan, list(options.argv), options.engine,
                      options.backend)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        _begin_replacements(plan, stores, options.results)
        journal.merge("running")
        outcomes = runner.run_tasks(plan.todo, min(options.jobs, max(1, len(plan.todo))),
                             progress=not options.quiet, backend=options.backend,
                             scheduler=options.scheduler, engine=options.engine,
                             chunk=options.chunk)
        with closing(outcomes):
            for finished in outcomes:
                journal.record(finished, plan.curve_every)
        journal.merge("finished")
    except ClusterError:
        journal.merge("failed", quietly=True)
        raise
    except KeyboardInterrupt as stop:
        journal.merge("interrupted", quietly=True)
        print(f"bench: {'terminated' if isinstance(stop, Terminated) else 'interrupted'}; "
              f"{journal.stored} finished runs are saved, run the same command again to resume",
              file=sys.stderr)
        return 143 if isinstance(stop, Terminated) else 130
    except WriteFailed as failure:
        journal.merge("failed", quietly=True)
        error = failure.__cause__
        raise WriteFailed(f"cannot write results under {options.results}: "
                          f"{error.strerror or error}; {journal.stored} finished runs are saved; "
                          "fix that and run the same command again to resume") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    return journal.verdict(options.results)


def _begin_replacements(plan, stores, results: Path) -> None:
    """Record each variant `--force` replaces before anything trains, and say which unfinished
    replacements of earlier commands this one leaves as they are."""
    for (experiment, variant), (settings, seeds) in plan.replacing.items():
        try:
            stores[experiment].begin_replacement(variant, settings, seeds)
        except OSError as error:
            raise WriteFailed() from error
    for name, store in stores.items():
        for replacement in store.replacements():
            if (name, replacement.variant) not in plan.replacing:
                print(f"bench: {name} / {replacement.variant} has an unfinished --force, its "
                      "runs held back (the stored ones stand): run that command again to finish "
                      f"it, or `python -m bench abandon {name} --results {results}` to drop it",
                      file=sys.stderr)


class WriteFailed(Exception):
    """Writing the results failed (disk full, permissions): its cause is the OSError."""


@dataclass
class Count:
    """The runs one command has stored and those that failed, in one experiment."""

    stored: int = 0
    failed: int = 0


class Journal:
    """What one `run` command has stored and what failed, folded into the store now and then."""

    def __init__(self, stores, experiments, plan, argv, engine: str, backend: str):
        self.stores, self.plan, self.argv = stores, plan, argv
        self.engine, self.backend = engine, backend
        self.metas = {e.name: provenance(e, [t for t in plan.tasks if t.experiment == e.name],
                                         plan.curve_every) for e in experiments if e.name in stores}
        self.errors = {name: [] for name in stores}
        self.counts = {name: Count() for name in stores}
        self.devices = {name: set() for name in stores}
        self.started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")
        self.clock = time.perf_counter()
        self.last_merge = time.monotonic()
        self.stored_runs = {}

    @property
    def stored(self) -> int:
        return sum(count.stored for count in self.counts.values())

    def record(self, outcomes: list, curve_every: int) -> None:
        """Stage the runs a chunk finished at once, one file per variant, and note its failures;
        merge every MERGE_EVERY_SECONDS."""
        finished = {}
        for outcome in outcomes:
            task = outcome.task
            unsound = None if outcome.error else run_problem(task, outcome.result)
            if outcome.error is None and unsound is None:
                finished.setdefault((task.experiment, task.variant), []).append(
                    (task, outcome.result))
                continue
            error = outcome.error or (f"not stored: {unsound} (the loss diverged, or the layer "
                                      "returned NaN)")
            self.errors[task.experiment].append(
                {"experiment": task.experiment, "variant": task.variant, "seed": task.seed,
                 "settings_hash": settings_hash(task.setup), "error": error})
            self.counts[task.experiment].failed += 1
        for (experiment, _), runs in finished.items():
            try:
                self.stores[experiment].stage(runs, curve_every,
                                              {"engine": self.engine, "backend": self.backend})
            except OSError as error:
                raise WriteFailed() from error
            self.counts[experiment].stored += len(runs)
            self.devices[experiment].update(result.device for _, result in runs)
        if time.monotonic() - self.last_merge > MERGE_EVERY_SECONDS:
            self.merge("running")

    def merge(self, status: str, quietly: bool = False) -> None:
        """Fold staged runs and errors into every store, and this command into its meta.json;
        `quietly` when already stopping for another reason (what is staged stays staged)."""
        wall = time.perf_counter() - self.clock
        for name, store in self.stores.items():
            meta = self.metas[name]
            count = self.counts[name]
            entry = invocation(self.argv, self.started, wall, runs=count.stored,
                               failed=count.failed, status=status, git_commit=meta["git_commit"],
                               engine=self.engine, backend=self.backend,
                               devices=sorted(self.devices[name]))
            try:
                self.stored_runs[name] = store.merge(self.errors[name], meta, entry)
            except Exception as error:  # noqa: BLE001  (stopping already: staged runs stay staged)
                if quietly:
                    continue
                if isinstance(error, OSError):
                    raise WriteFailed() from error
                raise
            self.errors[name] = []
        self.last_merge = time.monotonic()

    def verdict(self, results: Path) -> int:
        """Summarise; 0 only when every task asked for is stored with its settings."""
        for name, runs in self.stored_runs.items():
            _summarise(name, runs)
        stored = {(name, v, s): h for name, runs in self.stored_runs.items()
                  for v, s, h in runs[["variant", "seed", "settings_hash"]].itertuples(index=False)}
        missing = [t for t in self.plan.tasks
                   if stored.get((t.experiment, t.variant, t.seed)) != settings_hash(t.setup)]
        wall = time.perf_counter() - self.clock
        print(f"{self.stored} runs in {wall:.1f} s; results in {results}/")
        if missing:
            print(f"bench: {len(missing)} of {len(self.plan.tasks)} runs asked for are not stored "
                  f"(failed: see errors.csv under {results}/); run the same command again to "
                  "retry them", file=sys.stderr)
            return 1
        return 0


def _summarise(name: str, runs) -> None:
    table = runs.groupby("variant", sort=False)["eval_accuracy"].agg(["mean", "min", "max", "count"])
    for variant, row in table.iterrows():
        print(f"{name} / {variant}: eval accuracy mean {row['mean']:.4f} "
              f"(min {row['min']:.4f}, max {row['max']:.4f}, {int(row['count'])} seeds)")


def _terminate(signum, frame):
    """The first SIGTERM stops the command; later ones are ignored while it saves and ends, so
    that its status stays 143."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()
