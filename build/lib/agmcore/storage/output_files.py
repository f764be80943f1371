"""Writing results to files without losing them: check a destination completely before any work
is done (a test write in its folder), then write through a temporary file in that folder and
`os.replace`, so an interrupted write never leaves a truncated file or destroys an earlier one."""
from __future__ import annotations

import os
import tempfile


class OutputError(ValueError):
    """A destination that cannot be written; the message names the flag and the reason."""


def _test_write(folder: str, flag: str, path: str):
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".agmcore-probe-")
        os.close(fd)
        os.remove(probe)
    except OSError as e:
        raise OutputError(f"{flag} {path}: cannot write in {folder} ({e.strerror or e})") from None


def check_output_file(path: str, flag: str = "--out"):
    """Raise OutputError unless `path` ('-' is standard output) can be written as a file now."""
    if path == "-":
        return
    if not path:
        raise OutputError(f"{flag} is empty: give a file name, or - for standard output")
    if os.path.isdir(path):
        raise OutputError(f"{flag} {path} is a folder: give a file name")
    if os.path.exists(path) and not os.path.isfile(path):
        raise OutputError(f"{flag} {path} is not a regular file (a device or a special file)")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OutputError(f"{flag} {path}: folder {folder} does not exist")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise OutputError(f"{flag} {path}: permission denied")
    _test_write(folder, flag, path)


def check_output_folder(path: str, flag: str):
    """Raise OutputError unless `path` is (or can be created as) a folder we can write in; creates it."""
    if not path:
        raise OutputError(f"{flag} is empty: give a folder")
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputError(f"{flag} {path} is a file, not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{flag} {path}: cannot create it ({e.strerror or e})") from None
    _test_write(path, flag, path)


def _plain_file_mode(path: str) -> int:
    """The mode of the file at `path` if there is one, else 0o666 less the process's umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomically(path: str, data, mode: str = "w"):
    """Write `data` to `path` through a temporary file in the same folder, flushed to disk, then
    renamed over `path` (atomic on POSIX): a reader sees the old file or the new one, never half.
    The file gets the permissions a plain open() would give it (mkstemp's are owner-only)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".part")
    try:
        os.chmod(temporary, _plain_file_mode(path))
        with os.fdopen(fd, mode) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
