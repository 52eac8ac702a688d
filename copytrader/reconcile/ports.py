"""The two ports the reconcile service drives: the platform and the store.

Adapters satisfy these structurally (``copytrader.platform.haas.client.PlatformClient``,
``copytrader.platform.botprimex.client.BotPrimeXClient``, ``copytrader.store.repo.SqlStore``).
What differs between platforms is a value an adapter hands over (its catalogue, how its
sweep is partitioned, how it makes a clone), never a branch in the loop.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from copytrader.core.model import Bot, Catalogue, Scalar, SweepPart, User
from copytrader.core.records import (
    AuditEvent,
    BotSnapshot,
    Episode,
    Fence,
    Link,
    LinkChange,
    MasterState,
    RiskState,
    RunRecord,
    StandingCondition,
)


class Platform(Protocol):
    """What copytrader needs of a partner platform. Errors: ``copytrader.errors.PlatformError``."""

    @property
    def requests_sent(self) -> int: ...

    def sweep(self, *, masters_only: bool = False) -> AsyncGenerator[SweepPart, None]:
        """Every bot of the platform, in parts (:class:`SweepPart`): the first part holds
        every master and raises PlatformError when it cannot be read; each later part covers
        its users in full, yielded as soon as it is read (a failed one has ``error`` set).
        A platform read in one go yields one part covering every user. ``masters_only``:
        the first part alone is wanted."""
        ...

    def iter_users(self, page_size: int = -1) -> AsyncIterator[User]:
        """Every user a policy may name as a follower, as cheaply as the platform allows."""
        ...

    async def verified_users(self, user_ids: Collection[str]) -> Mapping[str, User]:
        """Those of ``user_ids`` the platform knows, each with everything ``policy check``
        checks of a follower (its exchanges; whether its credentials work)."""
        ...

    async def get_bot(self, user_id: str, bot_id: str) -> Bot: ...
    async def get_user(self, user_id: str) -> User: ...
    async def catalogue(self) -> Catalogue: ...
    async def clone_bot(
        self,
        user_id: str,
        bot_id: str,
        settings: Mapping[str, Scalar],
        *,
        follow_updates: bool = False,
    ) -> Bot: ...
    async def edit_bot(self, user_id: str, bot_id: str, settings: Mapping[str, Scalar]) -> None: ...
    async def start_bot(self, bot_id: str) -> None: ...
    async def stop_bot(self, bot_id: str) -> None: ...
    async def delete_bot(self, bot_id: str) -> None: ...


class Lease(Protocol):
    """The writer lease, as the executor checks it before each platform write
    (``copytrader.store.lease.WriterLease``)."""

    def check(self) -> Fence:
        """The fence of a write about to start; raises LeaseLostError when none may start."""
        ...


class Store(Protocol):
    """What copytrader keeps between passes. Errors: ``copytrader.errors.StoreError``.

    ``save_link``/``drop_link`` write the given audit events in the same transaction as the
    link, so a write's outcome and the link it changed are never recorded one without the
    other. Events with a ``key`` replace the earlier event of that key (a ``pending`` one).
    ``close_open_runs`` also turns ``pending`` events left by a crash into ``unknown`` (and
    keeps a clone request left without an answer waiting ``clone_pending_seconds`` for its bot).
    ``add_pending`` writes the ``pending`` events of writes about to be sent after checking
    ``fence`` against the writer lease in the same transaction (LeaseLostError when it fails:
    then nothing is written and the writes must not be sent). ``write_batch`` is the general
    form: link changes (in order) and events of many writes in one transaction, the fence
    checked first when given. ``save_risk`` and ``save_episodes`` write their audit events in
    the same transaction as their state; ``save_risk`` with ``expected`` writes a link's
    state only while its row is still the one read, and returns the links whose row changed
    (nothing of them written). Every method that writes events writes their
    notifications (the outbox) in that transaction.
    """

    async def start_run(self, run: RunRecord) -> None: ...
    async def finish_run(self, run: RunRecord) -> None: ...
    async def close_open_runs(
        self, now: datetime, *, clone_pending_seconds: float = 0.0
    ) -> int: ...

    async def links(self) -> list[Link]: ...
    async def record_intent(self, master: str, follower: str, at: datetime) -> None: ...
    async def save_link(self, link: Link, events: Sequence[AuditEvent] = ()) -> None: ...
    async def drop_link(
        self, master: str, follower: str, events: Sequence[AuditEvent] = ()
    ) -> None: ...
    async def adopt_link(self, link: Link, events: Sequence[AuditEvent] = ()) -> bool: ...

    async def standing(self, masters: Collection[str]) -> set[str]: ...
    async def save_standing(
        self,
        masters: Collection[str],
        current: Sequence[StandingCondition],
        scope: Collection[str | None] | None = None,
    ) -> None: ...

    async def add_events(self, events: Sequence[AuditEvent]) -> None: ...
    async def add_pending(self, events: Sequence[AuditEvent], fence: Fence | None) -> None: ...
    async def write_batch(
        self,
        changes: Sequence[LinkChange],
        events: Sequence[AuditEvent],
        fence: Fence | None = None,
    ) -> None: ...
    async def add_snapshots(self, snapshots: Sequence[BotSnapshot]) -> None: ...
    async def save_master_states(self, found: Sequence[MasterState]) -> None: ...

    async def risk_states(self) -> list[RiskState]: ...
    async def save_risk(
        self,
        states: Sequence[RiskState],
        events: Sequence[AuditEvent] = (),
        *,
        expected: Mapping[tuple[str, str], RiskState | None] | None = None,
    ) -> frozenset[tuple[str, str]]: ...

    async def episodes(self) -> list[Episode]: ...
    async def save_episodes(
        self,
        save: Sequence[Episode],
        drop: Sequence[str] = (),
        events: Sequence[AuditEvent] = (),
    ) -> None: ...
