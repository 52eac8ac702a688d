"""The reconciler's policy cache: unchanged files are not parsed again, any change reloads."""

from __future__ import annotations

from pathlib import Path

from copytrader.reconcile.reading import PolicyCache
from tests.reconcile.conftest import GRID_POLICY, write_policy


def test_unchanged_folder_reuses_the_load(policy_dir: Path) -> None:
    cache = PolicyCache()
    first = cache.load(policy_dir)
    assert cache.load(policy_dir) is first
    assert [p.master for p in first.policies] == [p.master for p in cache.load(policy_dir).policies]


def test_an_edited_added_or_removed_file_reloads(policy_dir: Path) -> None:
    cache = PolicyCache()
    first = cache.load(policy_dir)
    write_policy(policy_dir, "grid.yaml", GRID_POLICY.replace("stopValue: 4200", "stopValue: 4300"))
    edited = cache.load(policy_dir)
    assert edited is not first
    assert edited.policies[0].followers[0].own.overrides["stopValue"] == 4300
    write_policy(policy_dir, "other.yaml", "master: 0123456789abcdef\n")
    added = cache.load(policy_dir)
    assert added is not edited and len(added.policies) == 2
    (policy_dir / "other.yaml").unlink()
    assert len(cache.load(policy_dir).policies) == 1
