"""``copytrader follower add|remove|pause|unpause``: one policy file changed in place.

:func:`apply` takes the folder's edit lock, reads the file, makes the text edit
(:mod:`copytrader.policy.edit`), and checks the whole result exactly as ``policy check``
would (the loader, then the platform: catalogue, master bot, users; and no other file of the
folder for the same master). It also checks that the result says what was asked and nothing
else (the other followers and every other key as they were). Only then is the file replaced,
atomically (:mod:`copytrader.policy.atomic`). Any refusal leaves the file untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from copytrader.core.policy import FollowerPolicy, Layer, Policy, PolicySource, Problem
from copytrader.errors import PolicyEditError
from copytrader.policy import atomic, check, edit, loader, yamltree


class Op(enum.StrEnum):
    ADD = "add"
    REMOVE = "remove"
    PAUSE = "pause"
    UNPAUSE = "unpause"


@dataclass(frozen=True)
class Change:
    """What to do to one follower of one file (``entry`` for ``add``)."""

    op: Op
    user: str
    entry: edit.Entry | None = None


class Refused(Exception):
    """The change cannot be made; nothing was written. ``lines``: one per problem."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = list(lines)


@dataclass(frozen=True)
class Outcome:
    """What :func:`apply` did: ``written`` False when the file already said so."""

    path: Path
    written: bool


@contextlib.asynccontextmanager
async def _locked(folder: Path) -> AsyncIterator[None]:
    lock = atomic.FolderLock(folder)
    await asyncio.to_thread(lock.acquire)
    try:
        yield
    finally:
        lock.release()


async def apply(path: Path, change: Change, platform: check.PlatformReader) -> Outcome:
    """Make ``change`` to the policy file at ``path`` (a symlink's target is replaced and the
    link kept). Raises Refused (the change or its result is invalid), PolicyEditError, or
    PlatformError when the platform could not be read (a check that could not read the
    platform proves nothing)."""
    real = await asyncio.to_thread(path.resolve)
    if not await asyncio.to_thread(real.is_file):
        raise Refused([f"{path}: no such policy file"])
    async with _locked(real.parent):
        await asyncio.to_thread(atomic.remove_stale, real)
        data = await asyncio.to_thread(real.read_bytes)
        new = await _checked(path, data, change, platform)
        if new is None:
            return Outcome(path, False)
        if await asyncio.to_thread(real.read_bytes) != data:
            raise PolicyEditError(
                f"{path} was changed by someone else during the edit; nothing was written: "
                "run the command again"
            )
        await asyncio.to_thread(atomic.replace, real, new)
    return Outcome(path, True)


async def _checked(
    path: Path, data: bytes, change: Change, platform: check.PlatformReader
) -> bytes | None:
    """The file's new bytes once every check passed (None: nothing to change)."""
    file = str(path)
    before, problems = loader.load_bytes(file, data)
    if before is None:
        raise Refused(
            [f"{p} (the file is invalid now: fix it first)" for p in problems]
            or [f"{path}: the file is invalid now: fix it first"]
        )
    text = yamltree.decode(data)
    try:
        if change.op is Op.ADD:
            assert change.entry is not None
            after_text: str | None = edit.add(text, change.entry)
        elif change.op is Op.REMOVE:
            after_text = edit.remove(text, change.user)
        else:
            after_text = edit.set_paused(text, change.user, change.op is Op.PAUSE)
    except edit.EditError as exc:
        raise Refused([f"{path}: {exc}"]) from exc
    if after_text is None:
        return None
    new = after_text.encode("utf-8")
    after, problems = loader.load_bytes(file, new)
    if after is None:
        raise Refused([str(p) for p in problems])
    _verify(before, after, change)
    found = [p for _, ps in await check.against_platform([after], platform) for p in ps]
    found += await asyncio.to_thread(_same_master_elsewhere, path, after)
    problems = loader.locate(found, path, new) if found else []
    if problems:
        raise Refused([str(p) for p in problems])
    return new


def _expected(before: Policy, change: Change) -> tuple[FollowerPolicy, ...]:
    if change.op is Op.ADD:
        assert change.entry is not None
        e = change.entry
        own = Layer(
            MappingProxyType({k: yamltree.read_scalar(v) for k, v in e.overrides}),
            MappingProxyType({k: yamltree.read_scalar(v) for k, v in e.scale}),  # type: ignore[misc]
        )
        return (*before.followers, FollowerPolicy(e.user, own, e.paused))
    if change.op is Op.REMOVE:
        return tuple(f for f in before.followers if f.user != change.user)
    paused = change.op is Op.PAUSE
    return tuple(
        dataclasses.replace(f, paused=paused) if f.user == change.user else f
        for f in before.followers
    )


def _verify(before: Policy, after: Policy, change: Change) -> None:
    """The result is the file as it was with exactly ``change`` made."""
    blank = PolicySource("", "")
    want = dataclasses.replace(before, followers=_expected(before, change), source=blank)
    if dataclasses.replace(after, source=blank) != want:
        raise PolicyEditError(
            f"the edit of {before.source.path or 'the file'} did not come out as intended; "
            "nothing was written (please report this with the file)"
        )


def _same_master_elsewhere(path: Path, policy: Policy) -> list[Problem]:
    """A problem (without its position) when another policy file of the folder names the
    same master: the daemon and ``policy check`` would then refuse both."""
    loaded = loader.load_dir(path.parent)
    ours = path.resolve()
    return [
        Problem(
            str(path),
            f"master {policy.master} is also the master of {other}: one file per master",
            ("master",),
        )
        for other, master in sorted(loaded.masters.items())
        if master == policy.master and Path(other).resolve() != ours
    ]
