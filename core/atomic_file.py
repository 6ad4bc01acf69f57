"""Writing a file so that it is either the old one or the whole new one, never half of either.

The content goes to a temp file in the same folder, `<name>.<8 random characters>.tmp`, which is
then renamed over the target (`os.replace` is atomic on one file system). A full disk mid-write
leaves the last good file in place and no stray temp file. A process killed mid-write (SIGKILL,
power loss) cannot clean up: its temp file stays behind, and `remove_stray_temp_files` removes it
at the next start. The writer holds an exclusive `flock` on its temp file from creation to rename,
and the kernel drops it when the writer dies, so a temp file whose lock can be taken belongs to
nobody: a save still going on, in this process or another, is never removed from under it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from core.errors import FileWriteError

try:
    import fcntl
except ImportError:  # Windows: no flock; stray temp files are then only removed when old
    fcntl = None

TEMP_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(r"(?P<target>.+)\.[a-z0-9_]{8}\.tmp\Z")  # what tempfile.mkstemp makes with our prefix
_UNLOCKED_TEMP_AGE = 24 * 3600.0  # seconds: without flock, a temp file this old is surely abandoned


def write_atomically(path: str | os.PathLike, content: bytes | Callable[[BinaryIO], None]) -> Path:
    """Write `content` (bytes, or a function writing into a binary file) to `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = _locked_temp_file(path)
    try:
        with os.fdopen(handle, "wb") as temp_file:
            if callable(content):
                content(temp_file)
            else:
                temp_file.write(content)
            temp_file.flush()
            os.fsync(temp_file.fileno())  # the data is on disk before the rename can be
            os.chmod(temp_name, 0o666 & ~_UMASK)  # mkstemp makes 0600; give what open() would have
            if fcntl is not None:  # renamed while still locked: a cleanup never sees it unlocked
                os.replace(temp_name, path)
        if fcntl is None:
            os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def check_writable_target(path: str | os.PathLike) -> Path:
    """Make sure `path` can be written before spending time on what goes in it: its folder exists
    (or is made) and takes a new file, and the path is neither a folder nor under a file. Raises
    FileWriteError naming the path and the problem."""
    path = Path(path)
    if path.is_dir():
        raise FileWriteError(f"{path}: is a folder; give a file name, like {path / 'model.npz'}")
    if path.exists() and not path.is_file():
        raise FileWriteError(f"{path}: not a regular file; refusing to write over it")
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise FileWriteError(f"{path}: {ancestor} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as error:
        raise FileWriteError(f"{path}: cannot write in {path.parent} ({error.strerror or error})") from None
    return path


def _locked_temp_file(path: Path) -> tuple[int, str]:
    """A new temp file beside `path`, open and locked. A cleanup may take a new file's lock in the
    instant before its writer does and remove it: the writer, once it holds the lock, then finds
    the file unlinked and makes another."""
    while True:
        handle, temp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=TEMP_SUFFIX, dir=path.parent)
        if fcntl is None:
            return handle, temp_name
        fcntl.flock(handle, fcntl.LOCK_EX)
        if os.fstat(handle).st_nlink > 0:
            return handle, temp_name
        os.close(handle)


def is_temp_file_name(name: str, target_pattern: re.Pattern | None = None) -> bool:
    """Whether `name` is one of write_atomically's temp files (for a target matching `target_pattern`)."""
    match = _TEMP_NAME.match(name)
    return match is not None and (target_pattern is None or target_pattern.fullmatch(match["target"]) is not None)


def remove_stray_temp_files(folder: str | os.PathLike, target_pattern: re.Pattern | None = None) -> list[Path]:
    """Remove the temp files that killed writers left in `folder` (not in its subfolders), only those
    named as write_atomically names them (for targets matching `target_pattern`), and never one a
    live writer holds. Returns the files removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not is_temp_file_name(entry.name, target_pattern):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and _remove_if_abandoned(entry.path):
                removed.append(Path(entry.path))
        except OSError:
            continue  # gone meanwhile, or not ours to remove: left alone
    return removed


def _remove_if_abandoned(path: str) -> bool:
    if fcntl is None:
        import time

        if time.time() - os.stat(path).st_mtime < _UNLOCKED_TEMP_AGE:
            return False
        os.unlink(path)
        return True
    handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a writer is alive and holds it
        os.unlink(path)  # while holding the lock: a writer that takes it next sees the file gone
        return True
    finally:
        os.close(handle)


def _read_umask() -> int:
    """The process umask, read once at import (reading it means setting it, which is not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()
