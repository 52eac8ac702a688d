"""``copytrader follower``'s core: the whole result checked as ``policy check`` checks it,
refusals that leave the file untouched, and the file replaced atomically."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from copytrader.errors import PolicyEditError
from copytrader.policy import atomic, edit, followers, loader
from copytrader.policy.followers import Change, Op, Refused
from tests.policy.commented import COMMENTED, F1, F2, F3, F4
from tests.policy.world import ETH_GRID, FUTURES_USERS, SPOT_OWNER, FakePlatform


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    path = folder / "eth-grid.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    return path


def add(user: str, *overrides: tuple[str, str], scale: tuple[tuple[str, str], ...] = ()) -> Change:
    return Change(Op.ADD, user, edit.Entry(user, overrides, scale))


async def test_add_writes_a_checked_file_keeping_its_mode(policy: Path) -> None:
    policy.chmod(0o640)
    done = await followers.apply(policy, add(F4, ("stopValue", "3600")), FakePlatform())
    assert done.written
    new, problems = loader.load_file(policy)
    assert problems == [] and new is not None
    assert [f.user for f in new.followers] == [F1, F2, F3, F4]
    assert stat.S_IMODE(policy.stat().st_mode) == 0o640
    assert sorted(p.name for p in policy.parent.iterdir()) == ["eth-grid.yaml"]  # no temp


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (add("unknown-user"), "follower user unknown-user not found on the platform"),
        (add(FUTURES_USERS[0]), f"follower user {FUTURES_USERS[0]} is on exchange BITMEX"),
        (add(SPOT_OWNER), f"follower user {SPOT_OWNER} owns the master bot"),
        (add(F4, ("symbol", "X")), "symbol is locked: it cannot be overridden"),
        (add(F4, scale=(("symbol", "2"),)), "symbol is locked: it cannot be scaled"),
        (add(F4, ("noSuchKey", "1")), "unknown setting 'noSuchKey' for bot type spot_grid"),
        (add(F4, ("stopCondition", "Sometimes")), "'Sometimes' is not one of Manual, Price, RSI"),
        (add(F4, ("stopValue", "")), "stopValue"),
        (add(F4, ("stopValue", "1"), scale=(("stopValue", "2"),)), "both overridden and scaled"),
        (add(F2), f"user {F2} is already listed in this file"),
        (Change(Op.REMOVE, F4), f"user {F4} is not listed in this file"),
        (Change(Op.PAUSE, F4), f"user {F4} is not listed in this file"),
    ],
)
async def test_refusals_name_the_problem_and_write_nothing(
    policy: Path, change: Change, message: str
) -> None:
    before = policy.read_bytes()
    mtime = policy.stat().st_mtime_ns
    with pytest.raises(Refused) as refused:
        await followers.apply(policy, change, FakePlatform())
    assert any(message in line for line in refused.value.lines), refused.value.lines
    assert all(line.startswith(str(policy)) for line in refused.value.lines)
    assert policy.read_bytes() == before
    assert policy.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in policy.parent.iterdir()) == ["eth-grid.yaml"]


async def test_an_unknown_user_is_located_in_the_file_as_it_would_be(policy: Path) -> None:
    with pytest.raises(Refused) as refused:
        await followers.apply(policy, add("unknown-user"), FakePlatform())
    n = COMMENTED.count("\n") - COMMENTED.split("      paused: yes")[1].count("\n") + 1
    assert refused.value.lines == [
        f"{policy}:{n + 1}:13: follower user unknown-user not found on the platform"
    ]


async def test_a_file_invalid_now_is_refused_before_any_edit(policy: Path) -> None:
    policy.write_text(COMMENTED.replace("on_master_stopped: stop", "on_master_stopped: maybe"))
    with pytest.raises(Refused) as refused:
        await followers.apply(policy, add(F4), FakePlatform())
    assert "fix it first" in refused.value.lines[0]
    assert "on_master_stopped" in refused.value.lines[0]


async def test_removing_a_user_the_platform_no_longer_knows_repairs_the_file(policy: Path) -> None:
    platform = FakePlatform()
    del platform.users[F2]
    with pytest.raises(Refused):  # the file is invalid now: any other change is refused
        await followers.apply(policy, add(F4), platform)
    assert (await followers.apply(policy, Change(Op.REMOVE, F2), platform)).written
    new, _ = loader.load_file(policy)
    assert new is not None and [f.user for f in new.followers] == [F1, F3]


async def test_a_second_file_for_the_same_master_is_refused(policy: Path) -> None:
    (policy.parent / "copy.yml").write_text(f"master: {ETH_GRID}\n")
    with pytest.raises(Refused) as refused:
        await followers.apply(policy, add(F4), FakePlatform())
    assert refused.value.lines == [
        f"{policy}:5:11: master {ETH_GRID} is also the master of "
        f"{policy.parent / 'copy.yml'}: one file per master"
    ]


async def test_pause_unpause_and_nothing_to_change(policy: Path) -> None:
    platform = FakePlatform()
    assert not (await followers.apply(policy, Change(Op.PAUSE, F3), platform)).written
    assert (await followers.apply(policy, Change(Op.PAUSE, F1), platform)).written
    assert (await followers.apply(policy, Change(Op.UNPAUSE, F3), platform)).written
    new, _ = loader.load_file(policy)
    assert new is not None
    assert [f.paused for f in new.followers] == [True, False, False]


async def test_a_symlinked_policy_edits_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "shared" / "eth-grid.yaml"
    target.parent.mkdir()
    target.write_text(COMMENTED)
    folder = tmp_path / "policies"
    folder.mkdir()
    link = folder / "eth-grid.yaml"
    link.symlink_to(target)
    assert (await followers.apply(link, add(F4), FakePlatform())).written
    assert link.is_symlink()
    assert F4 in target.read_text()


async def test_a_change_made_by_someone_else_during_the_edit_is_not_overwritten(
    policy: Path,
) -> None:
    class Meddler(FakePlatform):
        async def catalogue(self):  # type: ignore[no-untyped-def]
            policy.write_text(COMMENTED + "# a person's edit\n")  # while the check reads
            return await super().catalogue()

    with pytest.raises(PolicyEditError, match="changed by someone else"):
        await followers.apply(policy, add(F4), Meddler())
    assert policy.read_text().endswith("# a person's edit\n")


def test_replace_leaves_no_temp_and_a_stale_temp_is_removed(policy: Path) -> None:
    stale = policy.parent / f".{policy.name}.dead{atomic.TEMP_SUFFIX}"
    stale.write_text("half a file")
    assert atomic.remove_stale(policy) == 1
    atomic.replace(policy, b"master: x\n")
    assert policy.read_bytes() == b"master: x\n"
    assert [p.name for p in policy.parent.iterdir()] == ["eth-grid.yaml"]


def test_the_folder_lock_serialises_edits(policy: Path) -> None:
    first = atomic.FolderLock(policy.parent)
    first.acquire()
    try:
        second = atomic.FolderLock(policy.parent, timeout=0.2)
        with pytest.raises(Exception, match="another copytrader follower command is editing"):
            second.acquire()
    finally:
        first.release()
    third = atomic.FolderLock(policy.parent, timeout=0.2)
    third.acquire()
    third.release()
    assert os.listdir(policy.parent) == ["eth-grid.yaml"]
