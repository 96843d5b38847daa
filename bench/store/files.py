"""The store's file operations: writes that are whole or absent after a kill at any
instruction, locks that never follow a link, and clean-up of only the store's own temporaries."""

import errno
import fcntl
import hashlib
import os
import re
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

TEMPORARY = ".tmp-"  # prefix of files being written; any left behind are removed by the next writer
# The names the store's temporary files have (mkstemp's 8 characters after the prefix, and
# after the name of the file they will replace): the only files clean-up removes.
MADE_TEMPORARY = re.compile(rf"{re.escape(TEMPORARY)}(?:.+\.)?[a-z0-9_]{{8}}")


class StoreError(Exception):
    """Results that cannot be used as they are: reported as one line, nothing is changed."""


class SetAside(UserWarning):
    """A staged file left out of what a store holds (it cannot be used), said in one line."""


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename over; the file
    gets `mode`, else what the umask gives a new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMPORARY}{path.name}.")
    if mode is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.fchmod(fd, mode)
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


def probe_writable(folder: Path) -> None:
    """Create and remove a temporary file in `folder`: an OSError now, before anything trains."""
    probe, name = tempfile.mkstemp(dir=folder, prefix=TEMPORARY)
    os.close(probe)
    os.unlink(name)


def remove_temporaries(*folders: Path) -> None:
    """Files a killed writer left half-written: only names the store itself makes."""
    for folder in folders:
        for path in folder.glob(f"{TEMPORARY}*"):
            if MADE_TEMPORARY.fullmatch(path.name) and path.is_file() and not path.is_symlink():
                path.unlink()


def open_lock(path: Path) -> int:
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


@contextmanager
def held(path: Path, mode: int, required: bool):
    """Hold the lock file at `path` (fcntl's LOCK_SH or LOCK_EX) for the block; where it cannot be opened,
    go on without it unless `required`."""
    try:
        handle = open_lock(path)
    except OSError:
        if required:
            raise
        yield
        return
    try:
        fcntl.flock(handle, mode)
        yield
    finally:
        os.close(handle)


def file_stem(variant: str) -> str:
    """A variant's name made safe and short for a file name: its plain characters (at most 60,
    no path separators, no leading dot) and a digest of the whole name, so two stems never meet."""
    plain = re.sub(r"[^A-Za-z0-9_=,+\[\]-]", "_", variant)[:60]
    return f"{plain}-{hashlib.sha256(variant.encode()).hexdigest()[:8]}"


def reason(error: Exception) -> str:
    """An error as a short phrase for a one-line message."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return " ".join(str(error).split()[:20]) or type(error).__name__
