"""The write-ahead ledger of a pass: the bookkeeping of many followers' platform writes in
few transactions.

It keeps the guarantees of recording one write at a time (README, "Guarantees"):

- **pending before send**: a write's ``pending`` audit event, and a clone's intent on its
  link, are committed before the write is sent: :meth:`Ledger.pending` returns only once the
  transaction holding them has committed;
- **fenced**: that transaction first checks the writer lease (holder, epoch and, on
  PostgreSQL, expiry on the database's clock). When the check fails nothing of the batch's
  pending writes is recorded, each of them gets LeaseLostError (none is sent), and so does
  every later one, without asking the database again;
- **outcome with its link**: a write's outcome event and the link change it made are queued
  together and always written in one transaction.

Group commit: one transaction at a time; what is queued while one commits goes into the
next, which starts as soon as the previous one is done (after one turn of the event loop, so
that followers answered at the same moment share it). No write waits for company: its send is
held back at most by the transaction in progress and its own, each of at most ``max_batch``
pending writes. Outcomes hold nobody up (the follower goes on to its next write, whose
pending event usually shares the outcome's transaction) and wait no longer than pending
writes do. A crash between a write's answer and that commit loses its outcome, as it always
could between a write and its record: the restart marks its pending event ``unknown``, and
the next pass reads the platform and adopts or converges. :meth:`Ledger.drain`, at the end
of the pass, returns once everything is on record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from copytrader.core.records import AuditEvent, Fence, LinkChange
from copytrader.errors import LeaseLostError, StoreError
from copytrader.reconcile.ports import Lease, Store


@dataclass
class _Pending:
    event: AuditEvent
    intent: LinkChange | None
    done: asyncio.Future[None]


@dataclass
class _Outcomes:
    changes: list[LinkChange] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes or self.events)


class Ledger:
    """The bookkeeping of one pass's platform writes (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        lease: Lease | None,
        *,
        max_batch: int = 256,
    ) -> None:
        """``lease`` None: writes are not fenced (only in tests of the executor alone)."""
        self.store = store
        self.lease = lease
        self.max_batch = max_batch
        self.fenced: LeaseLostError | None = None  # set once a batch was refused
        self.transactions = 0  # committed, for tests and benchmarks
        #: Writes whose pending event is committed: each may have been sent since.
        self.recorded = 0
        self._queued: list[_Pending] = []
        self._outcomes = _Outcomes()
        self._failed = False  # the last commit failed: outcomes wait for a pending or drain
        self._task: asyncio.Task[None] | None = None

    async def pending(self, event: AuditEvent, intent: LinkChange | None = None) -> None:
        """Record a write about to be sent (its ``pending`` event, and a clone's intent) and
        return once that is committed under the writer lease. Raises LeaseLostError (the
        lease was lost: do not send) or StoreError (not recorded: do not send)."""
        if self.fenced is not None:
            raise LeaseLostError(str(self.fenced))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.append(_Pending(event, intent, done))
        self._kick()
        await done

    def outcome(self, events: Sequence[AuditEvent], change: LinkChange | None = None) -> None:
        """Queue what became of a write (or of a step that sends nothing): its events and the
        link change it made, written together in one transaction. Returns at once."""
        if change is not None:
            self._outcomes.changes.append(change)
        self._outcomes.events.extend(events)
        self._kick()

    async def drain(self) -> None:
        """Commit everything queued; raises StoreError when the outcomes cannot be written."""
        if self._task is not None:
            await self._task
        if self._outcomes:  # left by a failed commit: one last try, then give up
            outcomes, self._outcomes = self._outcomes, _Outcomes()
            await self.store.write_batch(outcomes.changes, outcomes.events)
            self.transactions += 1

    @property
    def queued(self) -> int:
        """Pending writes and outcome events not committed yet."""
        return len(self._queued) + len(self._outcomes.events)

    def _kick(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        """The committer: one transaction at a time while anything is queued."""
        try:
            while self._queued or self._outcomes:
                if not self._queued and self._failed:
                    return  # the database failed: retried with the next write or by drain
                await asyncio.sleep(0)  # followers answered at the same moment join in
                await self._commit()
        except BaseException as exc:
            # Never leave a follower waiting on a transaction that will not come.
            for p in self._queued:
                if not p.done.done():
                    p.done.set_exception(StoreError(f"bookkeeping stopped: {exc!r}"))
            self._queued.clear()
            raise

    async def _commit(self) -> None:
        batch = self._queued[: self.max_batch]
        del self._queued[: len(batch)]
        outcomes, self._outcomes = self._outcomes, _Outcomes()
        refused: LeaseLostError | None = self.fenced
        fence: Fence | None = None
        if batch and refused is None and self.lease is not None:
            try:
                fence = self.lease.check()  # the local deadline first: no round trip
            except LeaseLostError as exc:
                refused = exc
        try:
            if batch and refused is None:
                intents = [p.intent for p in batch if p.intent is not None]
                events = [p.event for p in batch]
                try:
                    await self.store.write_batch(
                        [*outcomes.changes, *intents], [*outcomes.events, *events], fence
                    )
                    outcomes = _Outcomes()
                    self.transactions += 1
                    self.recorded += len(batch)
                except LeaseLostError as exc:  # the database's check of the fence
                    refused = exc
            if refused is not None:
                self.fenced = refused
            if outcomes:  # nothing pending, or refused: the outcomes alone (never fenced)
                await self.store.write_batch(outcomes.changes, outcomes.events)
                self.transactions += 1
        except StoreError as exc:
            self._requeue(outcomes)
            self._failed = True
            for p in batch:
                _settle(p.done, refused or exc)
            return
        self._failed = False
        for p in batch:
            _settle(p.done, refused)

    def _requeue(self, outcomes: _Outcomes) -> None:
        """Put outcomes that were not written back in front of what came meanwhile."""
        if not outcomes:
            return
        self._outcomes = _Outcomes(
            [*outcomes.changes, *self._outcomes.changes],
            [*outcomes.events, *self._outcomes.events],
        )


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():  # its follower was cancelled meanwhile
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
