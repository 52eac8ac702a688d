"""Taking, keeping and giving up the writer lease, with the audit events that record it.

Every command that writes to the platform goes through :class:`Leadership`: ``reconcile``
takes the lease once (or waits for it), ``run`` keeps trying as a standby and keeps renewing
as the leader. A new leader first settles what an earlier holder left: passes left running
are closed ``interrupted`` and their ``pending`` write events become ``unknown`` (the pass that
follows reads the platform and adopts or converges from what it finds; a clone request left
without an answer is first given the time a timed-out one gets to show its bot).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog

from copytrader.core.records import AuditEvent
from copytrader.observe.audit import AuditTrail
from copytrader.store.lease import Holding, WriterLease, short
from copytrader.store.repo import SqlStore

log = structlog.get_logger("copytrader.lease")

#: The run id of the lease's audit events (they belong to no pass).
RUN_ID = "lease"
#: The longest a standby waits between two looks at a free lease (a clean stop of the
#: leader is taken over within this, plus a pass's start).
MAX_STANDBY_POLL = 2.5


class Leadership:
    """The writer lease of one process, audited."""

    def __init__(
        self, lease: WriterLease, store: SqlStore, *, clone_pending_seconds: float = 0.0
    ) -> None:
        """``clone_pending_seconds``: how long a clone request an earlier holder left without
        an answer is given to show its bot before a pass may clone again (the reconciler's
        wait after a timed-out clone)."""
        self.lease = lease
        self.store = store
        self.clone_pending_seconds = clone_pending_seconds

    @property
    def standby_poll(self) -> float:
        return min(self.lease.renew_every, MAX_STANDBY_POLL)

    async def _audit(
        self, action: str, *, detail: str, error: str | None = None, outcome: str = "ok"
    ) -> None:
        trail = AuditTrail(self.store, RUN_ID)
        await trail.emit(
            AuditEvent(
                ts=datetime.now(UTC),
                run_id=RUN_ID,
                action=action,
                outcome=outcome,
                error=error,
                detail=detail,
            )
        )
        await trail.flush()

    async def take(self) -> bool:
        """Take the lease if it is free; on success settle the earlier holder's leftovers
        and audit ``lease_acquired``. True when this process holds it."""
        if self.lease.held:
            return True
        if not await self.lease.try_acquire():
            return False
        epoch = self.lease.epoch
        log.info("writer lease acquired", epoch=epoch, holder=short(self.lease.holder))
        closed = await self.store.close_open_runs(
            datetime.now(UTC), clone_pending_seconds=self.clone_pending_seconds
        )
        if closed:
            log.warning("runs left open by an earlier holder were marked interrupted", count=closed)
        await self._audit(
            "lease_acquired",
            detail=f"epoch {epoch}; holder "
            f"{short(self.lease.holder)}; {closed} unfinished pass(es) settled",
        )
        return True

    async def wait_for(self, seconds: float) -> bool:
        """Try to take the lease for up to ``seconds``; True when taken."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            if await self.take():
                return True
            left = deadline - loop.time()
            if left <= 0:
                return False
            await asyncio.sleep(min(self.standby_poll, left))

    async def holder(self) -> Holding | None:
        """Who holds the lease now, as the database says."""
        return await self.lease.current()

    async def step_down(self, reason: str) -> None:
        """The lease was lost (or could not be renewed): no more writes; audit it."""
        epoch = self.lease.last_epoch
        await self.lease.release()
        log.error("writer lease lost; no more platform writes", reason=reason)
        await self._audit(
            "lease_lost",
            outcome="failed",
            error=reason,
            detail=f"stepped down (had epoch {epoch})" if epoch else "stepped down",
        )

    async def give_up(self) -> None:
        """A clean stop: give the lease up at once so a standby takes over without waiting."""
        if not self.lease.held:
            return
        epoch = self.lease.epoch
        await self.lease.release()
        log.info("writer lease given up", epoch=epoch)
        await self._audit("lease_released", detail=f"epoch {epoch}; clean stop")

    async def keep(self, lost: Callable[[str], Awaitable[None]] | None = None) -> None:
        """Renew the lease every fifth of it until cancelled or lost; on a loss, step down
        and await ``lost(reason)``."""
        loop = asyncio.get_running_loop()
        while self.lease.held:
            started = loop.time()
            await asyncio.sleep(self.lease.renew_every)
            if not await self.lease.renew():
                reason = self.lease.lost_reason or "the lease could not be renewed"
                await self.step_down(reason)
                if lost is not None:
                    await lost(reason)
                return
            log.debug("writer lease renewed", took=round(loop.time() - started, 3))
