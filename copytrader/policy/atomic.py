"""Replacing a policy file atomically, and the lock that serialises copytrader's own edits.

:func:`replace` writes the new bytes to a hidden temporary file in the same folder, flushes
it to disk, gives it the old file's mode (and owner, when run as root), renames it over the
file and flushes the folder: a reader (the daemon's folder watch, a ``kill -9`` at any
moment) sees the old file or the new one, never a part of either. The temporary name starts
with a dot and does not end in ``.yaml``, so the daemon and the loader never read it; one
left by a killed edit is removed by the next edit of that file (:func:`remove_stale`).

:class:`FolderLock` (``flock`` on the folder itself, no lock file) makes two ``copytrader
follower`` commands on one folder take turns, so neither loses the other's change.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import time
from pathlib import Path

from copytrader.errors import ConfigError

TEMP_SUFFIX = ".copytrader-tmp"
#: Test hook: seconds to pause between the chunks of a write and before the rename, so a
#: test can kill the process in the middle of a write. Never set it in production.
SLOW_WRITE_ENV = "COPYTRADER_TEST_SLOW_WRITE"
_CHUNKS = 8


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


class FolderLock:
    """The edit lock of one folder: :meth:`acquire` (blocking) and :meth:`release`."""

    def __init__(self, folder: Path, timeout: float = 30.0) -> None:
        self.folder = folder
        self.timeout = timeout
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; ConfigError naming the folder
        when another edit holds it that long."""
        fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._fd = fd
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise ConfigError(
                        f"another copytrader follower command is editing {self.folder}; "
                        "try again"
                    ) from None
                time.sleep(0.05)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


def remove_stale(path: Path) -> int:
    """Remove temporary files of ``path`` left by a killed edit (call it holding the
    :class:`FolderLock`: no other edit of this folder is writing one); how many."""
    prefix, removed = _temp_prefix(path), 0
    for entry in path.parent.iterdir():
        if entry.name.startswith(prefix) and entry.name.endswith(TEMP_SUFFIX):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed += 1
    return removed


def _write_all(fd: int, chunk: bytes) -> None:
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view) :]


def replace(path: Path, data: bytes) -> None:
    """Make ``data`` the content of ``path`` in one step (see the module docstring)."""
    st = path.stat()
    temp = path.with_name(f"{_temp_prefix(path)}{secrets.token_hex(4)}{TEMP_SUFFIX}")
    delay = float(os.environ.get(SLOW_WRITE_ENV) or 0)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            step = max(1, -(-len(data) // _CHUNKS))
            for start in range(0, len(data), step):
                _write_all(fd, data[start : start + step])
                if delay:
                    time.sleep(delay)
            os.fchmod(fd, st.st_mode & 0o7777)
            if os.geteuid() == 0:
                os.fchown(fd, st.st_uid, st.st_gid)
            os.fsync(fd)
        finally:
            os.close(fd)
        if delay:
            time.sleep(delay)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
