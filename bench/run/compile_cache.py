"""Compiled programs kept on disk between commands, so that a second command neither traces
Keras nor compiles with XLA again: each program is stored whole (by rename, safe under
concurrent writers and a kill at any instruction) under a digest of everything it depends on.
The trainer writes no file: a command's workers `install` this as the place it keeps programs.

The folder is `$ECHO_BENCH_CACHE`, else the user's cache folder (`$XDG_CACHE_HOME` or
`~/.cache`, then `echo-bench/programs`); `ECHO_BENCH_CACHE=off` turns it off. A cache that
cannot be used is skipped: the program is compiled as if there were none.

An entry is a pickled program, and unpickling runs code, so the cache trusts only what this
user made for this key: the folder must be this user's and writable by no one else (made
0700), entries and the key are this user's regular files readable by no one else (0600), each
entry is signed with HMAC-SHA256 under a secret key kept in the folder (`.key`) and checked
before a byte of it is unpickled, and it names the full key it was made for, so an entry copied
onto another's name is compiled again. Anything else is compiled afresh and replaced.
"""

import functools
import hashlib
import hmac
import os
import pickle
import platform
import stat
import sys
from importlib import metadata
from pathlib import Path

import echo
from bench.store import files
from echo.errors import one_line

VARIABLE = "ECHO_BENCH_CACHE"
OFF = "off"
SUFFIX = ".program"
KEY = ".key"  # this user's secret that signs every entry
SIGNATURE = 32  # bytes of HMAC-SHA256 before each entry's pickle
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
    """Why programs cannot be kept in `where` (it cannot be made or written, or it is not this
    user's alone: another's, or writable by group or others), or None."""
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = os.stat(where)
        if found.st_uid != os.getuid():
            return "the folder is not this user's"
        if found.st_mode & 0o022:
            return "the folder is writable by others than its owner"
        files.probe_writable(where)
    except OSError as error:
        return error.strerror or str(error)
    return None


def load(key: tuple):
    """The compiled program stored under `key` (see `digest`), or None: none stored, the cache
    off or unusable, or an entry that does not load (it is then compiled and stored afresh)."""
    path = _path(key)
    secret = _secret() if path is not None else None
    if secret is None:
        return None
    try:
        data = _own_file(path)
        signature, payload = data[:SIGNATURE], data[SIGNATURE:]
        if not hmac.compare_digest(signature, _sign(secret, payload)):
            return None  # not made here with this key: never unpickled
        made_for, blob, in_tree, out_tree = pickle.loads(payload)
        if made_for != _full_key(key):
            return None  # another program's entry under this name
        # Late: JAX, in workers only.
        from jax.experimental import serialize_executable

        return serialize_executable.deserialize_and_load(blob, in_tree, out_tree)
    except Exception:  # noqa: BLE001  (none stored; or damaged: compiled again and replaced)
        return None


def save(key: tuple, compiled) -> None:
    """Keep `compiled` under `key`, written whole by rename; a cache that cannot take it (a full
    or read-only disk, a program that cannot be serialized) is skipped with one line."""
    path = _path(key)
    secret = _secret() if path is not None else None
    if secret is None:
        return
    try:
        # Late: JAX, in workers only.
        from jax.experimental import serialize_executable

        payload = pickle.dumps((_full_key(key), *serialize_executable.serialize(compiled)))
        files.atomic_write(path, _sign(secret, payload) + payload, mode=0o600)
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
    wrong = _problem_once(str(where))
    if wrong:
        _give_up(wrong)
        return None
    return where / f"{digest(key)}{SUFFIX}"


@functools.cache
def _problem_once(where: str) -> str | None:
    return problem(Path(where))


def _secret() -> bytes | None:
    """This user's key for the folder (made once, 0600), or None (the cache given up)."""
    try:
        return _secret_in(str(folder()))
    except (OSError, ValueError) as error:
        _give_up(f"its key: {one_line(error, 200)}")
        return None


@functools.cache
def _secret_in(where: str) -> bytes:
    path = Path(where) / KEY
    try:
        made = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                       0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(made, "wb") as handle:
            handle.write(os.urandom(SIGNATURE))
            handle.flush()
            os.fsync(handle.fileno())
    secret = _own_file(path)
    if len(secret) != SIGNATURE:
        raise ValueError(f"{path} is not a key this package made; remove it")
    return secret


def _own_file(path: Path) -> bytes:
    """The bytes of `path` if it is a regular file of this user's that no one else can read or
    write (never following a link, never waiting on a pipe); else an OSError."""
    handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        found = os.fstat(handle)
        if not stat.S_ISREG(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
            raise PermissionError(f"{path} is not this user's own regular file")
        with os.fdopen(os.dup(handle), "rb") as reader:
            return reader.read()
    finally:
        os.close(handle)


def _sign(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()


def _full_key(key: tuple) -> str:
    """Everything a program depends on, as its entry records it (see `digest`)."""
    return repr((key, _context()))


def digest(key: tuple) -> str:
    """A program's name on disk: its key (architecture, argument shapes, purpose: what the
    process's own program cache is keyed by) with what else decides the executable: the
    versions of Python, JAX, jaxlib, Keras and NumPy, echo/'s source, the device, the CPU and
    the XLA flags."""
    return hashlib.sha256(_full_key(key).encode()).hexdigest()[:32]


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
