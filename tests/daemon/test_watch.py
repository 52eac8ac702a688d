"""Polling the policy folder: what counts as a change, and the debounce."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from copytrader.daemon.watch import FolderWatch, describe, snapshot


def test_snapshot_sees_policy_files_only(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x")
    (tmp_path / "b.yml").write_text("yy")
    (tmp_path / ".a.yaml.swp").write_text("z")
    (tmp_path / "notes.txt").write_text("z")
    snap = snapshot(tmp_path)
    assert sorted(snap) == ["a.yaml", "b.yml"]
    assert snap["b.yml"][1] == 2
    assert snapshot(tmp_path / "missing") == {}


def test_describe_names_added_removed_changed() -> None:
    before = {"a.yaml": (1, 1), "b.yaml": (1, 1)}
    after = {"a.yaml": (2, 1), "c.yaml": (1, 1)}
    assert describe(before, after) == {"added": ["c.yaml"], "removed": ["b.yaml"],
                                       "changed": ["a.yaml"]}


async def test_a_burst_of_writes_is_one_change(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("one")
    changes: list[dict[str, list[str]]] = []
    watch = FolderWatch(tmp_path, changes.append, poll=0.05, settle=0.15)
    task = asyncio.create_task(watch.run())
    try:
        await asyncio.sleep(0.1)
        for i in range(3):  # an editor saving in steps
            (tmp_path / "a.yaml").write_text("two" * (i + 1))
            await asyncio.sleep(0.03)
        (tmp_path / "b.yaml").write_text("new")
        for _ in range(100):
            if changes:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.4)
        assert changes == [{"added": ["b.yaml"], "removed": [], "changed": ["a.yaml"]}]
        os.remove(tmp_path / "b.yaml")
        for _ in range(100):
            if len(changes) == 2:
                break
            await asyncio.sleep(0.05)
        assert changes[1] == {"added": [], "removed": ["b.yaml"], "changed": []}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
