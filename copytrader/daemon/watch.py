"""Watching the policy folder by polling: names, sizes and mtimes of the policy files.

Polling once a second needs no new dependency (inotify bindings), works on every file system
(NFS, bind mounts, ConfigMaps whose symlinks are swapped) and costs one ``scandir``. A change
is reported once the folder has held still briefly, so an editor's several writes, or a
``cp`` of several files, become one pass.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import structlog

log = structlog.get_logger("copytrader.daemon.watch")

Snapshot = dict[str, tuple[int, int]]  # file name -> (mtime_ns, size)
SUFFIXES = (".yaml", ".yml")


def snapshot(folder: Path) -> Snapshot:
    """The policy files of ``folder`` with their mtime and size ({} when it is missing)."""
    found: Snapshot = {}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.name.endswith(SUFFIXES):
                    continue  # editors' swap and temp files
                try:
                    st = entry.stat()  # follows symlinks: a swapped target is a change
                except OSError:
                    continue  # removed between listing and stat
                found[entry.name] = (st.st_mtime_ns, st.st_size)
    except OSError:
        return {}
    return found


def describe(before: Snapshot, after: Snapshot) -> dict[str, list[str]]:
    """Which files were added, removed or changed."""
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": sorted(k for k in before.keys() & after.keys() if before[k] != after[k]),
    }


class FolderWatch:
    """Calls ``on_change(description)`` after the policy files of ``folder`` changed."""

    def __init__(self, folder: Path, on_change: Callable[[dict[str, list[str]]], None], *,
                 poll: float = 1.0, settle: float = 0.3, max_settle_rounds: int = 10) -> None:
        self.folder = folder
        self.on_change = on_change
        self.poll = poll
        self.settle = settle
        self.max_settle_rounds = max_settle_rounds

    async def _snap(self) -> Snapshot:
        return await asyncio.to_thread(snapshot, self.folder)

    async def run(self) -> None:
        """Poll until cancelled."""
        last = await self._snap()
        while True:
            await asyncio.sleep(self.poll)
            current = await self._snap()
            if current == last:
                continue
            # Debounce: wait until the folder holds still (bounded, for a file always busy).
            for _ in range(self.max_settle_rounds):
                await asyncio.sleep(self.settle)
                again = await self._snap()
                if again == current:
                    break
                current = again
            change = describe(last, current)
            last = current
            log.info("policy folder changed", folder=str(self.folder), **change)
            self.on_change(change)
