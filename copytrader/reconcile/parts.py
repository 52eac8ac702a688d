"""A pass over the sweep's parts: each part planned, audited and executed as it arrives.

The platform hands its sweep over in parts (:meth:`Platform.sweep`): HaasOnline in one part
holding everything, BotPrimeX the master account first, then each follower account as soon
as its ``GET /bots`` is read (each account under its own key and rate limit). The first part
(every master) was read with the policies (:func:`copytrader.reconcile.reading.read_head`);
:class:`PartRun` then plans it, audits its notes, records its standing conditions and
executes its writes, and does the same for each later part the moment it arrives, while the
rest are still being read. A follower's writes therefore wait for the master account and its
own account only. A part that could not be read plans nothing: its followers are audited
``account_unread`` and left as they are (their standing conditions on record stay).

On HaasOnline the one part is planned and executed exactly as a whole pass always was.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from copytrader.core import partition
from copytrader.core import plan as plan_mod
from copytrader.core.model import Bot, SweepPart
from copytrader.core.plan import FollowerPlan, Plan
from copytrader.core.records import AuditEvent
from copytrader.reconcile.executor import Audit, Executor, FollowerResult, Outcome, note_event
from copytrader.reconcile.ports import Lease, Platform, Store
from copytrader.reconcile.reading import Reading
from copytrader.reconcile.standing import StandingPass

log = structlog.get_logger("copytrader.reconcile")

#: Notes audited with the state that makes them (``Plan.risk``), not as notes of a pass:
#: the HELD ``risk_stop`` of a held clone is shown every pass and audited once, when taken.
WITH_STATE = frozenset({"risk_stop"})


@dataclass
class Progress:
    """How far a pass got, known even when it ends with an error."""

    #: Writes whose pending event was committed (each may have reached the platform).
    writes_recorded: int = 0


@dataclass(frozen=True)
class Execution:
    """How each part's executor runs (see :class:`copytrader.reconcile.executor.Executor`).
    Each part has an executor of its own, so ``concurrency`` bounds one part's followers
    in flight: a part held up by its account's rate limit takes no slot of another's."""

    concurrency: int
    stopping: Callable[[], bool]
    clone_pending_seconds: float
    lease: Lease | None
    progress: Progress = field(default_factory=Progress)


class PartRun:
    """One pass's parts: :meth:`run` plans and executes each one as it is read."""

    def __init__(
        self,
        platform: Platform,
        store: Store,
        trail: Audit,
        run_id: str,
        read: Reading,
        standing: StandingPass,
        execution: Execution,
    ) -> None:
        self.platform = platform
        self.store = store
        self.trail = trail
        self.run_id = run_id
        self.read = read
        self.standing = standing
        self.execution = execution
        self.sources = {p.master: (p.source.path, p.source.sha256) for p in read.policies}
        #: Every bot of the parts read so far (for the pass's snapshots).
        self.bots: dict[str, Bot] = dict(read.masters)
        #: A part's executor found the writer lease lost (its writes stopped).
        self.fenced = False
        self._suspicious_noted = False

    async def run(
        self, rest: AsyncGenerator[SweepPart, None]
    ) -> tuple[Plan, list[FollowerResult], dict[str, str]]:
        """Plan and execute the first part, and each part of ``rest`` as it arrives; the
        pass's plan (every part's, merged), every follower's result, and each user whose
        part could not be read with why. Never raises for a platform error."""
        tasks: list[asyncio.Task[tuple[Plan, list[FollowerResult]]]] = []
        unread: dict[str, str] = {}
        try:
            tasks.append(asyncio.create_task(self._part(self.read.parts[0], first=True)))
            async for part in rest:
                if part.error:
                    await self._unread(part, unread)
                    continue
                self.bots.update(part.bots)
                tasks.append(asyncio.create_task(self._part(part, first=False)))
            done = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await rest.aclose()
            raise
        finally:
            self.standing.end()
        plans = [p for p, _ in done]
        plan = plans[0] if len(plans) == 1 else partition.merge(plans)
        return plan, [res for _, results in done for res in results], unread

    async def _part(self, part: SweepPart, *, first: bool) -> tuple[Plan, list[FollowerResult]]:
        policies, world = partition.view(
            self.read.policies, self.read.world, part, self.read.masters
        )
        plan = plan_mod.build(policies, world)
        if world.suspicious and not self._suspicious_noted:
            self._suspicious_noted = True
            await self.trail.emit(
                AuditEvent(
                    ts=datetime.now(UTC),
                    run_id=self.run_id,
                    action="sweep_suspicious",
                    outcome="noted",
                    detail="the sweep misses most known clones; nothing re-cloned or deleted",
                )
            )
        for note in await self.standing.fresh(plan.notes):
            if note.action not in WITH_STATE:
                await self.trail.emit(note_event(self.run_id, note, self.sources))
        await self.trail.flush()  # the notes are on record before their conditions are
        scope = None if part.users is None else {*part.users, *((None,) if first else ())}
        await self.standing.record(plan.notes, scope)
        stale = await self._save_risk(plan) if plan.risk else frozenset()
        executor = Executor(
            self.platform,
            self.store,
            self.trail,
            self.run_id,
            concurrency=self.execution.concurrency,
            stopping=self.execution.stopping,
            clone_pending_seconds=self.execution.clone_pending_seconds,
            lease=self.execution.lease,
        )
        try:
            ran = iter(await executor.run(
                tuple(f for f in plan.followers if _key(f) not in stale)))
        finally:
            self.execution.progress.writes_recorded += executor.ledger.recorded
        results = [_not_sent(f) if _key(f) in stale else next(ran) for f in plan.followers]
        self.fenced = self.fenced or executor.fenced is not None
        return plan, results

    async def _save_risk(self, plan: Plan) -> frozenset[tuple[str, str]]:
        """Store the risk states that changed (a hold is on record before the stop it asks
        for is sent), each only while its row is still the one this pass read; the links
        whose row changed meanwhile (a ``copytrader resume`` since the read) are returned:
        their plan was made from a state that is gone, so nothing of it is sent this pass."""
        events = [
            self.trail.mask(note_event(self.run_id, r.event, self.sources))
            for r in plan.risk
            if r.event
        ]
        expected = {(r.state.master, r.state.follower): r.before for r in plan.risk}
        stale = await self.store.save_risk(
            [r.state for r in plan.risk], events, expected=expected
        )
        for event in events:
            if (event.master, event.follower) not in stale:
                self.trail.log(event)
        for master, follower in sorted(stale):
            log.warning("risk state changed during the pass; follower re-planned next pass",
                        run_id=self.run_id, master=master, follower=follower)
        return stale

    async def _unread(self, part: SweepPart, unread: dict[str, str]) -> None:
        """Audit a part that could not be read (once per account and pass)."""
        self.standing.unread()
        for user in sorted(part.users or ()):
            unread[user] = part.error
            await self.trail.emit(
                AuditEvent(
                    ts=datetime.now(UTC),
                    run_id=self.run_id,
                    action="account_unread",
                    follower=user,
                    outcome="failed",
                    error=part.error,
                    detail="the account's bots could not be read; its followers are left "
                    "as they are this pass",
                )
            )
        await self.trail.flush()


#: Why a follower's actions were not sent (see :meth:`PartRun._save_risk`).
STALE_RISK = (
    "not sent: this follower's risk state changed after this pass read it (a copytrader "
    "resume meanwhile); the next pass plans it again from the new state"
)


def _key(fp: FollowerPlan) -> tuple[str, str]:
    return fp.master, fp.follower


def _not_sent(fp: FollowerPlan) -> FollowerResult:
    """The result of a follower whose plan was made from a risk state that changed."""
    clone = fp.clone
    outcomes = tuple(
        Outcome(a, False, a.bot or (clone.bot_id if clone else None), STALE_RISK)
        for a in fp.actions
    )
    return FollowerResult(
        fp, outcomes, clone.bot_id if clone else None, clone.status if clone else None
    )
