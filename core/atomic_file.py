"""Writing a file so that it is either the old one or the whole new one, never half of either.

The content goes to a temp file in the same folder, which is then renamed over the target
(`os.replace` is atomic on one file system). A crash or a full disk mid-write leaves the last
good file in place and no stray temp file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: str | os.PathLike, content: bytes | Callable[[BinaryIO], None]) -> Path:
    """Write `content` (bytes, or a function writing into a binary file) to `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as temp_file:
            if callable(content):
                content(temp_file)
            else:
                temp_file.write(content)
            temp_file.flush()
            os.fsync(temp_file.fileno())  # the data is on disk before the rename can be
        os.chmod(temp_name, 0o666 & ~_UMASK)  # mkstemp makes 0600; give what open() would have
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def _read_umask() -> int:
    """The process umask, read once at import (reading it means setting it, which is not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()
