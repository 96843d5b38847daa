"""Compiled programs kept on disk between commands, so that a second command neither traces
Keras nor compiles with XLA again: each program is stored whole (by rename, safe under
concurrent writers and a kill at any instruction) under a digest of everything it depends on.
The trainer writes no file: a command's workers `install` this as the place it keeps programs.

The folder is `$ECHO_BENCH_CACHE`, else the user's cache folder (`$XDG_CACHE_HOME` or
`~/.cache`, then `echo-bench/programs`); `ECHO_BENCH_CACHE=off` turns it off. A cache that
cannot be used is skipped: the program is compiled as if there were none.
"""

import functools
import hashlib
import os
import pickle
import platform
import sys
from importlib import metadata
from pathlib import Path

import echo
from bench.store import files
from echo.errors import one_line

VARIABLE = "ECHO_BENCH_CACHE"
OFF = "off"
SUFFIX = ".program"
_unusable: list[str] = []  # why this process stopped using the cache (said once)


def folder() -> Path | None:
    """Where programs are kept, or None when the cache is off."""
    given = os.environ.get(VARIABLE, "")
    if given.lower() == OFF:
        return None
    if given:
        return Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "echo-bench" / "programs"


def install() -> None:
    """Make this process's trainer keep its programs here (`echo.training.keep_programs`)."""
    # Late (as every JAX import here): the trainer and JAX, loaded in workers only.
    from echo import training

    training.keep_programs(sys.modules[__name__])


def problem(where: Path) -> str | None:
    """Why programs cannot be kept in `where` (it cannot be made or written), or None."""
    try:
        where.mkdir(parents=True, exist_ok=True)
        files.probe_writable(where)
    except OSError as error:
        return error.strerror or str(error)
    return None


def load(key: tuple):
    """The compiled program stored under `key` (see `digest`), or None: none stored, the cache
    off or unusable, or an entry that does not load (it is then compiled and stored afresh)."""
    path = _path(key)
    if path is None:
        return None
    try:
        blob, in_tree, out_tree = pickle.loads(path.read_bytes())
        # Late: JAX, in workers only.
        from jax.experimental import serialize_executable

        return serialize_executable.deserialize_and_load(blob, in_tree, out_tree)
    except Exception:  # noqa: BLE001  (none stored; or damaged: compiled again and replaced)
        return None


def save(key: tuple, compiled) -> None:
    """Keep `compiled` under `key`, written whole by rename; a cache that cannot take it (a full
    or read-only disk, a program that cannot be serialized) is skipped with one line."""
    path = _path(key)
    if path is None:
        return
    try:
        # Late: JAX, in workers only.
        from jax.experimental import serialize_executable

        files.atomic_write(path, pickle.dumps(serialize_executable.serialize(compiled)))
    except Exception as error:  # noqa: BLE001  (the cache is an optimisation, never a failure)
        _give_up(one_line(error, 200))


def _give_up(reason: str) -> None:
    if not _unusable:
        print(f"echo-bench: compile cache in {folder()} skipped ({reason}); compiling as without "
              f"one (set {VARIABLE}=off to silence this)", file=sys.stderr)
    _unusable.append(reason)


def _path(key: tuple) -> Path | None:
    where = folder()
    if where is None or _unusable:
        return None
    return where / f"{digest(key)}{SUFFIX}"


def digest(key: tuple) -> str:
    """A program's name on disk: its key (architecture, argument shapes, purpose: what the
    process's own program cache is keyed by) with what else decides the executable: the
    versions of Python, JAX, jaxlib, Keras and NumPy, echo/'s source, the device, the CPU and
    the XLA flags."""
    return hashlib.sha256(repr((key, _context())).encode()).hexdigest()[:32]


@functools.cache
def _context() -> tuple:
    # Late: JAX, in workers only.
    import jax

    versions = tuple(_version(p) for p in ("jax", "jaxlib", "keras", "numpy"))
    device = jax.devices()[0]
    return (sys.version, versions, _source_digest(), device.platform, device.device_kind,
            device.client.platform_version, platform.machine(), _cpu(),
            os.environ.get("XLA_FLAGS", ""))


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"


def _source_digest() -> str:
    """A digest of the trainer's package's source: any change to echo/ compiles afresh."""
    source = hashlib.sha256()
    for path in sorted(Path(echo.__file__).parent.glob("*.py")):
        source.update(path.name.encode() + path.read_bytes())
    return source.hexdigest()


def _cpu() -> str:
    """The CPU's model and features, which an executable for the CPU is compiled for."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    wanted = [line for line in lines if line.startswith(("model name", "flags"))][:2]
    return hashlib.sha256("\n".join(wanted).encode()).hexdigest()
