"""Runs a plan: the platform writes, the links that make them safe, and their audit events.

Followers run concurrently (bounded), most urgent first (:mod:`copytrader.core.urgency`:
risk-reducing writes before edits, edits before clones); each write also queues for the rate
limit at its own urgency. One follower's actions run in order, and the first failure ends that
follower's sequence (the next pass starts again from what it reads). Every write is on record
before it is sent and its outcome is recorded with its link, through the pass's
:class:`~copytrader.reconcile.ledger.Ledger` (many followers' bookkeeping per transaction).
Before a clone is requested its intent is stored, so a clone whose answer is lost is adopted
on the next pass rather than made twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Protocol

from copytrader.core import urgency
from copytrader.core.actions import Carrier
from copytrader.core.model import Bot, Scalar, Status
from copytrader.core.plan import Action, FollowerPlan, Kind, Note
from copytrader.core.records import AuditEvent, Link, LinkChange, LinkOp
from copytrader.errors import (
    CopytraderError,
    LeaseLostError,
    NetworkError,
    PermanentError,
    RateLimitedError,
    StoreError,
)
from copytrader.platform import ratelimit, transport
from copytrader.reconcile.ledger import Ledger
from copytrader.reconcile.ports import Lease, Platform, Store


@dataclass(frozen=True)
class Outcome:
    """What became of one action. ``bot`` is the bot acted on (the new one for a clone).
    ``unknown``: a write that failed may still have been carried out (its request reached
    the platform and no answer said what became of it); it is audited ``unknown``."""

    action: Action
    ok: bool
    bot: str | None
    error: str | None = None
    unknown: bool = False

    @property
    def recorded(self) -> str:
        """The outcome as the audit trail records it: ``ok``, ``failed`` or ``unknown``."""
        return "ok" if self.ok else "unknown" if self.unknown else "failed"

    def to_json(self) -> dict[str, object]:
        doc = self.action.to_json()
        doc["bot"] = self.bot
        doc["outcome"] = "ok" if self.ok else "failed"
        doc["error"] = self.error
        return doc


@dataclass(frozen=True)
class FollowerResult:
    plan: FollowerPlan
    outcomes: tuple[Outcome, ...]
    bot: str | None  # the clone after the actions
    status: Status | None  # its status after the actions

    @property
    def failed(self) -> bool:
        return any(not o.ok for o in self.outcomes) or len(self.outcomes) < len(self.plan.actions)


class Audit(Protocol):
    """What the executor and the service need of the audit trail
    (``copytrader.observe.audit.AuditTrail``)."""

    def mask(self, event: AuditEvent) -> AuditEvent: ...
    def log(self, event: AuditEvent) -> AuditEvent: ...
    async def emit(self, event: AuditEvent) -> None: ...
    async def flush(self) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


def _event(
    run_id: str,
    fp: FollowerPlan,
    action: Action,
    outcome: Outcome | None,
    bot: str | None,
    key: str | None,
) -> AuditEvent:
    """The audit event of ``action``: ``pending`` (outcome None, before the write is sent),
    then ``ok``, ``failed`` or ``unknown`` under the same ``key``."""
    return AuditEvent(
        ts=_now(),
        run_id=run_id,
        action=action.kind.value,
        master=action.master,
        follower=action.follower,
        bot=bot,
        changes=MappingProxyType({k: (c.before, c.after) for k, c in action.changes.items()}),
        outcome="pending" if outcome is None else outcome.recorded,
        error=outcome.error if outcome is not None else None,
        policy_file=fp.source.path or None,
        policy_sha256=fp.source.sha256 or None,
        layers=MappingProxyType(
            {k: c.layer.value for k, c in action.changes.items() if c.layer is not None}
        ),
        detail=action.reason or None,
        key=key,
    )


def note_event(run_id: str, note: Note, sources: Mapping[str, tuple[str, str]]) -> AuditEvent:
    """The audit event of a decision that wrote nothing."""
    path, sha = sources.get(note.master, ("", ""))
    return AuditEvent(
        ts=_now(),
        run_id=run_id,
        action=note.action,
        master=note.master,
        follower=note.follower,
        bot=note.bot,
        changes=MappingProxyType({k: (c.before, c.after) for k, c in note.changes.items()}),
        outcome="noted",
        policy_file=path or None,
        policy_sha256=sha or None,
        detail=note.detail or None,
    )


class Executor:
    """Executes follower plans against a platform, recording links and audit events."""

    def __init__(
        self,
        platform: Platform,
        store: Store,
        audit: Audit,
        run_id: str,
        *,
        concurrency: int = 8,
        stopping: Callable[[], bool] = lambda: False,
        clone_pending_seconds: float = 60.0,
        lease: Lease | None = None,
    ) -> None:
        """``clone_pending_seconds``: after a clone request timed out, how long the platform
        may still be making that bot (no second clone is requested meanwhile). ``lease``:
        every write is fenced by it (None only in tests of the executor alone)."""
        self.lease = lease
        self.fenced: str | None = None  # why writes stopped: the writer lease was lost
        self.platform = platform
        self.clone_pending_seconds = clone_pending_seconds
        self.store = store
        self.audit = audit
        self.run_id = run_id
        self.stopping = stopping
        self.concurrency = max(1, concurrency)
        self.ledger = Ledger(store, lease)

    async def run(self, followers: tuple[FollowerPlan, ...]) -> list[FollowerResult]:
        """Run every follower's actions, most urgent first; never raises for a platform
        error. Returns once every outcome is recorded (StoreError when it cannot be)."""
        todo = iter(urgency.order(fp for fp in followers if fp.actions))
        done: dict[int, FollowerResult] = {}

        async def worker() -> None:
            for fp in todo:  # shared: each follower is taken by one worker, in order
                done[id(fp)] = await self._follower(fp)

        try:
            async with asyncio.TaskGroup() as group:
                # Twice as many followers as requests in flight: while one batch of writes
                # is on the wire, the next is being recorded (and waits, recorded, for a
                # place in the limiter), so the bookkeeping is off the critical path.
                for _ in range(2 * self.concurrency):
                    group.create_task(worker())
        except BaseExceptionGroup as group_error:  # a bug: end the pass with its own error
            raise group_error.exceptions[0] from group_error
        finally:
            await self.ledger.drain()
        out = []
        for fp in followers:
            if id(fp) in done:
                out.append(done[id(fp)])
            else:
                clone = fp.clone
                out.append(
                    FollowerResult(
                        fp, (), clone.bot_id if clone else None, clone.status if clone else None
                    )
                )
        return out

    async def _follower(self, fp: FollowerPlan) -> FollowerResult:
        bot = fp.clone.bot_id if fp.clone else None
        status = fp.clone.status if fp.clone else None
        applied: dict[str, Scalar] = dict(fp.clone.settings) if fp.clone else {}
        outcomes: list[Outcome] = []
        for action in fp.actions:
            if self.stopping() or self.fenced:
                break  # shutting down or stepped down: the next pass (leader) picks up
            target = action.bot or bot
            key = uuid.uuid4().hex if action.is_write else None
            at = _now()
            if key is not None:
                # Write-ahead: the attempt (and a clone's intent) is on record before it is
                # sent, so a crash right after the platform did it cannot leave the write out
                # of the audit trail; and only while this process holds the writer lease.
                pending = self.audit.mask(_event(self.run_id, fp, action, None, target, key))
                intent = (
                    LinkChange(LinkOp.INTEND, Link(action.master, action.follower, None, at))
                    if action.kind is Kind.CLONE
                    else None
                )
                try:
                    await self.ledger.pending(pending, intent)
                except (LeaseLostError, StoreError) as exc:  # not recorded: not sent
                    if isinstance(exc, LeaseLostError):
                        self.fenced = str(exc)
                    outcome = Outcome(action, False, target, str(exc))
                    outcomes.append(outcome)
                    self.ledger.outcome([self._logged(fp, outcome, target, key)])
                    break
                self.audit.log(pending)
                # Its place in the rate limiter's queue (a risk-reducing write first).
                ratelimit.URGENCY.set(urgency.of(action) or 0)
            # Every request of this write names it (its audit event's key), resends too.
            write_id = transport.WRITE_ID.set(key)
            try:
                new_bot = await self._do(action, target, applied)
            except CopytraderError as exc:
                if isinstance(exc, LeaseLostError):  # the transport's last-moment check
                    self.fenced = str(exc)
                # A write that may have been carried out is never recorded as failed.
                outcome = Outcome(action, False, target, str(exc), unknown=exc.maybe_applied)
                outcomes.append(outcome)
                change = self._after_failure(action, exc, at)
                self.ledger.outcome([self._logged(fp, outcome, target, key)], change)
                break
            finally:
                transport.WRITE_ID.reset(write_id)
            acted = new_bot.bot_id if new_bot is not None else target
            change = None
            if new_bot is not None:  # a clone
                target = new_bot.bot_id
                applied = dict(new_bot.settings)
                status = new_bot.status
                change = _save(action, target, applied)
            elif action.kind is Kind.EDIT:
                applied.update(action.payload)
                change = _save(action, target, applied)
            elif action.kind is Kind.ADOPT:
                change = _save(action, target, applied)
            elif action.kind is Kind.START:
                status = Status.RUNNING
            elif action.kind is Kind.STOP:
                status = Status.STOPPED
            elif action.kind in (Kind.DELETE, Kind.RELEASE):
                change = LinkChange(LinkOp.DROP, Link(action.master, action.follower, None))
                target, status = None, None
            bot = target
            outcome = Outcome(action, True, acted)
            outcomes.append(outcome)
            # The outcome and its link change are written in one transaction.
            self.ledger.outcome([self._logged(fp, outcome, acted, key)], change)
        return FollowerResult(fp, tuple(outcomes), bot, status)

    def _logged(
        self, fp: FollowerPlan, outcome: Outcome, bot: str | None, key: str | None
    ) -> AuditEvent:
        """The outcome's audit event, logged now and masked as it must be stored."""
        return self.audit.log(_event(self.run_id, fp, outcome.action, outcome, bot, key))

    def _after_failure(
        self, action: Action, exc: CopytraderError, at: datetime
    ) -> LinkChange | None:
        """What a failed clone leaves on its link (the intent stays otherwise)."""
        if action.kind is not Kind.CLONE:
            return None
        m, f = action.master, action.follower
        if isinstance(exc, PermanentError | RateLimitedError) and not exc.maybe_applied:
            # Refused or not processed: no bot was made, so no intent to keep.
            return LinkChange(LinkOp.DROP, Link(m, f, None))
        if isinstance(exc, NetworkError) and isinstance(exc.__cause__, TimeoutError):
            # The platform may still be making the bot: wait for it to show (and adopt it)
            # rather than cloning a second one.
            until = _now() + timedelta(seconds=self.clone_pending_seconds)
            return LinkChange(LinkOp.SAVE, Link(m, f, None, intent_at=at, pending_until=until))
        return None

    async def _do(self, action: Action, bot: str | None, applied: dict[str, Scalar]) -> Bot | None:
        """One action's platform write (none for adopt and release); the new bot of a clone.
        Raises on failure (the caller records it)."""
        kind = action.kind
        if kind is Kind.CLONE:
            return await self.platform.clone_bot(
                action.follower,
                action.master,
                action.payload,
                follow_updates=action.propagation is Carrier.PLATFORM,
            )
        if kind is Kind.RELEASE:  # forget the link; there may be no bot (an intent only)
            return None
        assert bot is not None, f"{kind.value} needs a bot"
        if kind is Kind.EDIT:
            await self.platform.edit_bot(action.follower, bot, action.payload)
        elif kind is Kind.START:
            await self.platform.start_bot(bot)
        elif kind is Kind.STOP:
            await self.platform.stop_bot(bot)
        elif kind is Kind.DELETE:
            await self.platform.delete_bot(bot)
        return None


def _save(action: Action, bot: str | None, applied: Mapping[str, Scalar]) -> LinkChange:
    """The link of ``action``'s follower pointing at ``bot`` with ``applied`` settings."""
    link = Link(action.master, action.follower, bot, applied=MappingProxyType(dict(applied)))
    return LinkChange(LinkOp.SAVE, link)
