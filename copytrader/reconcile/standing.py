"""Standing conditions: notes of what persists until a person acts (or the platform
changes), audited once per condition for the life of the database, not every pass.

One :class:`Standing` per reconciler; :meth:`Standing.begin` starts a pass's
:class:`StandingPass`, which tells which notes are fresh (not on record yet) and makes the
record what the pass saw, part by part of the sweep (a part's conditions are recorded within
that part's scope only, so a follower account that could not be read keeps its record).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime

from copytrader.core.actions import Note
from copytrader.core.records import StandingCondition
from copytrader.reconcile.ports import Store

#: Notes of conditions that persist until a person acts (or the platform changes).
STANDING = frozenset(
    {
        "immutable_flagged",
        "master_missing",
        "adopt_candidate",
        "duplicate_suspected",
        "status_unknown",
        "clone_unseen",
        "clone_pending",
    }
)


def stands(note: Note) -> bool:
    """Whether ``note`` reports a standing condition (audited once while it lasts): one of
    :data:`STANDING`, or a note the planner marked ``lasting`` (a drift nothing repairs)."""
    return note.action in STANDING or note.lasting


class Standing:
    """What a reconciler remembers between passes about the record of conditions."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # True until a pass finds no standing condition on record: the first pass of a
        # process must ask the database (conditions may have cleared since the last process).
        self.any = True

    def begin(self, masters: Collection[str]) -> StandingPass:
        """The bookkeeping of one pass over the policies of ``masters``."""
        return StandingPass(self, set(masters))


class StandingPass:
    """One pass's standing conditions: which notes to audit, and the record to keep."""

    def __init__(self, owner: Standing, masters: set[str]) -> None:
        self.owner = owner
        self.masters = masters
        self._known: set[str] | None = None
        self._seen = False  # a standing note was seen, or part of the record was not read
        self._touched = False  # the record needs saving (the database was asked)

    async def fresh(self, notes: Iterable[Note]) -> list[Note]:
        """The notes to audit: every one, except a standing condition already on record
        (audited by an earlier pass of any process) and unchanged since."""
        notes = list(notes)
        standing = [n for n in notes if stands(n)]
        self._seen = self._seen or bool(standing)
        if not standing and not self.owner.any:
            return notes  # the common case: no query
        if self._known is None:
            self._known = await self.owner.store.standing(self.masters)
        self._touched = True
        known = self._known
        fresh = [n for n in notes if not stands(n) or n.condition_key() not in known]
        known.update(n.condition_key() for n in standing)
        return fresh

    async def record(self, notes: Iterable[Note], scope: Collection[str | None] | None) -> None:
        """After the fresh notes were written: the record of the conditions in ``scope``
        (followers, None for a master's own; None: every one) becomes what the notes say
        (new ones kept, cleared ones forgotten so they are audited again should they come
        back)."""
        if not self._touched:
            return
        now = datetime.now(UTC)
        current = {
            n.condition_key(): StandingCondition(
                n.condition_key(), n.action, n.master, n.follower, n.bot, now
            )
            for n in notes
            if stands(n) and (scope is None or n.follower in scope)
        }
        await self.owner.store.save_standing(self.masters, list(current.values()), scope)

    def unread(self) -> None:
        """Part of the platform could not be read: its record stays, so the next pass must
        ask the database again."""
        self._seen = True

    def end(self) -> None:
        """The pass is over: remember whether any condition may be on record."""
        self.owner.any = self._seen
