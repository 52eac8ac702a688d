"""Failure episodes: ``write_failing`` and ``platform_down``, each audited once (pure).

An episode is a streak of failing passes: a follower whose writes failed in
:data:`THRESHOLD` passes in a row (``write_failing``), or that many aborted passes in a row,
the platform unreadable (``platform_down``). It is announced once, when the streak reaches
the threshold, and once more when it ends (``recovered``, whose ``changes`` name the episode
with the streak it had: ``{"write_failing": [4, 0]}``). The streaks are stored
(:class:`~copytrader.core.records.Episode`), so a restart neither repeats nor loses an
announcement. A pass that says nothing about a follower (it was aborted, or stopped before
that follower's writes) leaves its streak as it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from copytrader.core.records import Episode

#: Failing passes in a row that make an episode.
THRESHOLD = 3
PLATFORM = "platform_down"
WRITES = "write_failing"


def write_key(master: str, follower: str) -> str:
    """The episode key of ``follower``'s writes for ``master``."""
    return f"{WRITES}:{master}:{follower}"


@dataclass(frozen=True, slots=True)
class Announcement:
    """An audit event to write with the episodes' new state."""

    action: str  # write_failing | platform_down | recovered
    master: str | None
    follower: str | None
    detail: str
    error: str | None = None
    changes: Mapping[str, tuple[int, int]] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )


@dataclass(frozen=True, slots=True)
class Step:
    """What to store (``save`` upserted, ``drop`` deleted by key) and announce."""

    save: tuple[Episode, ...] = ()
    drop: tuple[str, ...] = ()
    announce: tuple[Announcement, ...] = ()

    def __add__(self, other: Step) -> Step:
        return Step(self.save + other.save, self.drop + other.drop, self.announce + other.announce)


@dataclass(frozen=True, slots=True)
class Observed:
    """One subject in one pass: ``failed`` True (it failed), False (it went well), None
    (the pass says nothing about it)."""

    key: str
    kind: str
    master: str | None
    follower: str | None
    failed: bool | None
    error: str | None = None


def _when(ts: datetime) -> str:
    return ts.isoformat(timespec="seconds").replace("+00:00", "Z")


def _opened(e: Episode) -> Announcement:
    if e.kind == PLATFORM:
        detail = (
            f"{e.streak} passes in a row were aborted since {_when(e.since)} (the last "
            "error says why; each pass_aborted event says what it wrote)"
        )
    else:
        detail = (
            f"this follower's writes failed in {e.streak} passes in a row since "
            f"{_when(e.since)}; the next passes keep trying"
        )
    return Announcement(e.kind, e.master, e.follower, detail, e.last_error)


def _recovered(e: Episode, why: str) -> Announcement:
    detail = f"{e.kind} ended after {e.streak} failing passes in a row: {why}"
    return Announcement(
        "recovered", e.master, e.follower, detail, None, MappingProxyType({e.kind: (e.streak, 0)})
    )


def step(before: Mapping[str, Episode], seen: Iterable[Observed], now: datetime) -> Step:
    """The streaks after one pass that saw ``seen``, from the streaks ``before``."""
    save: list[Episode] = []
    drop: list[str] = []
    announce: list[Announcement] = []
    for o in seen:
        was = before.get(o.key)
        if o.failed is None:
            continue
        if not o.failed:
            if was is not None:
                drop.append(o.key)
                if was.open:
                    why = (
                        "the platform is read again"
                        if o.kind == PLATFORM
                        else (o.error or "its writes succeed again")
                    )
                    announce.append(_recovered(was, why))
            continue
        streak = (was.streak if was else 0) + 1
        since = was.since if was else now
        opened = bool(was and was.open)
        now_open = opened or streak >= THRESHOLD
        episode = Episode(o.key, o.kind, o.master, o.follower, streak, now_open, since, o.error)
        save.append(episode)
        if now_open and not opened:
            announce.append(_opened(episode))
    return Step(tuple(save), tuple(drop), tuple(announce))


def platform(aborted: bool, error: str | None) -> Observed:
    """The platform's part of one pass: it failed when the pass was aborted."""
    return Observed(PLATFORM, PLATFORM, None, None, aborted, error)


def gone(
    before: Mapping[str, Episode], planned: Collection[tuple[str, str]], masters: Collection[str]
) -> list[Observed]:
    """``write_failing`` streaks of followers of ``masters`` that this pass no longer plans
    (removed and released): they end."""
    return [
        Observed(e.key, e.kind, e.master, e.follower, False, "the follower is no longer planned")
        for e in before.values()
        if e.kind == WRITES and e.master in masters and (e.master, e.follower or "") not in planned
    ]
