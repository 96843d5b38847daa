"""The house's structure, read from the imports: bench/ holds rooms only, no import (at the top
or inside a function) closes a cycle in bench/ or echo/, arrows between bench's rooms run one
way, and only the command line reads the experiments a command knows."""

import ast
from pathlib import Path

import pytest

from helpers import ROOT

PACKAGES = ("bench", "echo", "experiments")
# What each room of bench/ may import of the others (cli -> run -> store, report -> stats -> store).
ROOMS = {
    "cli": {"run", "report", "perf", "stats", "store"},
    "perf": {"run", "store"},
    "run": {"stats", "store"},
    "report": {"stats", "store"},
    "stats": {"store"},
    "store": set(),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def imported(path: Path) -> set[str]:
    """The project's modules a file imports, at its top or inside a function: `from a import b`
    is the module a.b where there is one, else a."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES
                      else node.module for a in node.names}
    return {name for name in found if name in MODULES}


def graph() -> dict[str, set[str]]:
    """Each module's imports of the project's modules, but a package's own parents (which
    Python imports first anyway)."""
    return {name: {m for m in imported(path) if not name.startswith(m + ".")}
            for name, path in MODULES.items()}


def test_bench_holds_rooms_and_no_module_of_its_own():
    loose = sorted(p.name for p in (ROOT / "bench").glob("*.py"))
    assert loose == ["__init__.py", "__main__.py"]
    rooms = sorted(p.name for p in (ROOT / "bench").iterdir() if (p / "__init__.py").is_file())
    assert rooms == sorted(ROOMS)


def test_no_import_closes_a_cycle_in_bench_or_echo():
    edges = graph()
    seen, cycles = {}, []

    def visit(name, path):
        seen[name] = "open"
        for other in sorted(edges[name]):
            if seen.get(other) == "open":
                cycles.append(path[path.index(other):] + [other] if other in path else [name, other])
            elif other not in seen:
                visit(other, path + [other])
        seen[name] = "done"

    for name in sorted(edges):
        if name.startswith(("bench", "echo")) and name not in seen:
            visit(name, [name])
    assert cycles == []


@pytest.mark.parametrize("room", sorted(ROOMS))
def test_arrows_between_rooms_run_one_way(room):
    back = sorted(f"{name} -> {other}" for name, others in graph().items()
                  if name.startswith(f"bench.{room}.") for other in others
                  if other.startswith("bench.") and other.count(".") >= 1
                  and other.split(".")[1] in ROOMS and other.split(".")[1] != room
                  and other.split(".")[1] not in ROOMS[room])
    assert back == []


def test_echo_and_experiments_never_import_bench():
    reaching = sorted(f"{name} -> {other}" for name, others in graph().items()
                      if name.startswith(("echo", "experiments")) for other in others
                      if other.startswith("bench"))
    assert reaching == []


def test_the_experiments_a_command_knows_are_passed_on_from_the_command_line():
    """Only bench/cli reads the experiments' registry; every other room is given it."""
    readers = sorted(name for name, path in MODULES.items() if name.startswith("bench.")
                     and not name.startswith("bench.cli") and any(
                         word in path.read_text() for word in ("discover", "load_path", "EXPERIMENTS")))
    assert readers == []
    declared = sorted(f"{name} -> {other}" for name, others in graph().items()
                      if name.startswith("bench.") for other in others
                      if other.startswith("experiments."))  # an experiment's own module
    assert declared == []


def test_the_walk_sees_the_arrows_it_checks():
    """The checks above could pass by seeing nothing: the walk finds known imports, a lazy one
    among them."""
    edges = graph()
    assert "bench.store.files" in edges["bench.store.directory"]
    assert "bench.run.rounds" in edges["bench.cli.launch"]  # imported inside a function
    assert "echo.spec" in edges["echo.setup"]
