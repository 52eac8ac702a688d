"""Runs a plan: the platform writes, the links that make them safe, and their audit events.

Followers run concurrently (bounded); one follower's actions run in order, and the first
failure ends that follower's sequence (the next pass starts again from what it reads).
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

from copytrader.core.actions import Carrier
from copytrader.core.model import Bot, Scalar, Status
from copytrader.core.plan import Action, FollowerPlan, Kind, Note
from copytrader.core.records import AuditEvent, Link
from copytrader.errors import (
    CopytraderError,
    LeaseLostError,
    NetworkError,
    PermanentError,
    RateLimitedError,
)
from copytrader.reconcile.ports import Lease, Platform, Store


@dataclass(frozen=True)
class Outcome:
    """What became of one action. ``bot`` is the bot acted on (the new one for a clone)."""

    action: Action
    ok: bool
    bot: str | None
    error: str | None = None

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
    """What the executor needs of the audit trail (``copytrader.observe.audit.AuditTrail``)."""

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
    then ``ok`` or ``failed`` under the same ``key``."""
    return AuditEvent(
        ts=_now(),
        run_id=run_id,
        action=action.kind.value,
        master=action.master,
        follower=action.follower,
        bot=bot,
        changes=MappingProxyType({k: (c.before, c.after) for k, c in action.changes.items()}),
        outcome="pending" if outcome is None else "ok" if outcome.ok else "failed",
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
        self._slots = asyncio.Semaphore(concurrency)

    async def run(self, followers: tuple[FollowerPlan, ...]) -> list[FollowerResult]:
        """Run every follower's actions; never raises for a platform error."""
        busy = [fp for fp in followers if fp.actions]
        results = await asyncio.gather(*(self._guarded(fp) for fp in busy))
        done = {id(r.plan): r for r in results}
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

    async def _guarded(self, fp: FollowerPlan) -> FollowerResult:
        try:
            async with self._slots:
                return await self._follower(fp)
        finally:
            # Outside the slot, which bounds the followers talking to the platform: while
            # this transaction commits, the next follower's request is already on its way,
            # and followers that finish meanwhile share the next flush (one transaction).
            await self.audit.flush()

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
            if key is not None:
                # Write-ahead: the attempt is on record before it is sent, so a crash right
                # after the platform did it cannot leave the write out of the audit trail;
                # and it is recorded only while this process holds the writer lease.
                pending = self.audit.mask(_event(self.run_id, fp, action, None, target, key))
                try:
                    fence = self.lease.check() if self.lease is not None else None
                    await self.store.add_pending([pending], fence)
                except LeaseLostError as exc:
                    self.fenced = str(exc)
                    outcomes.append(Outcome(action, False, target, str(exc)))
                    break
                self.audit.log(pending)
            try:
                new_bot = await self._do(fp, action, target, applied, key)
            except CopytraderError as exc:
                if isinstance(exc, LeaseLostError):  # the transport's last-moment check
                    self.fenced = str(exc)
                outcome = Outcome(action, False, target, str(exc))
                outcomes.append(outcome)
                await self.audit.emit(_event(self.run_id, fp, action, outcome, target, key))
                break
            acted = new_bot.bot_id if new_bot is not None else target
            if new_bot is not None:
                target = new_bot.bot_id
                applied = dict(new_bot.settings)
                status = new_bot.status
            if action.kind is Kind.EDIT:
                applied.update(action.payload)
            elif action.kind is Kind.START:
                status = Status.RUNNING
            elif action.kind is Kind.STOP:
                status = Status.STOPPED
            elif action.kind in (Kind.DELETE, Kind.RELEASE):
                target, status = None, None
            bot = target
            outcomes.append(Outcome(action, True, acted))
        return FollowerResult(fp, tuple(outcomes), bot, status)

    async def _do(
        self,
        fp: FollowerPlan,
        action: Action,
        bot: str | None,
        applied: dict[str, Scalar],
        key: str | None,
    ) -> Bot | None:
        """One action's platform write, then its store update and its ``ok`` event in one
        transaction. Raises on failure (the caller records the failed event)."""
        m, f = action.master, action.follower
        kind = action.kind

        def done(bot_id: str | None) -> list[AuditEvent]:
            ok = Outcome(action, True, bot_id)
            return [self.audit.log(_event(self.run_id, fp, action, ok, bot_id, key))]

        if kind is Kind.CLONE:
            # Intent first: if the answer is lost, the next pass adopts the bot it made.
            at = _now()
            await self.store.record_intent(m, f, at)
            try:
                made = await self.platform.clone_bot(
                    f, m, action.payload, follow_updates=action.propagation is Carrier.PLATFORM
                )
            except (PermanentError, RateLimitedError):
                # Refused or not processed: no bot was made, so no intent to keep.
                await self.store.drop_link(m, f)
                raise
            except NetworkError as exc:
                if isinstance(exc.__cause__, TimeoutError):
                    # The platform may still be making the bot: wait for it to show
                    # (and adopt it) rather than cloning a second one.
                    until = _now() + timedelta(seconds=self.clone_pending_seconds)
                    await self.store.save_link(Link(m, f, None, intent_at=at, pending_until=until))
                raise
            link = Link(m, f, made.bot_id, applied=MappingProxyType(dict(made.settings)))
            await self.store.save_link(link, done(made.bot_id))
            return made
        if kind is Kind.RELEASE:  # forget the link; there may be no bot (an intent only)
            await self.store.drop_link(m, f, done(bot))
            return None
        assert bot is not None, f"{kind.value} needs a bot"
        if kind is Kind.ADOPT:
            link = Link(m, f, bot, applied=MappingProxyType(dict(applied)))
            await self.store.save_link(link, done(bot))
        elif kind is Kind.EDIT:
            await self.platform.edit_bot(f, bot, action.payload)
            merged = MappingProxyType({**applied, **action.payload})
            await self.store.save_link(Link(m, f, bot, applied=merged), done(bot))
        elif kind in (Kind.START, Kind.STOP):
            if kind is Kind.START:
                await self.platform.start_bot(bot)
            else:
                await self.platform.stop_bot(bot)
            # No store update to share a transaction with: the buffer writes the outcome
            # over the pending event at the next flush.
            await self.audit.emit(
                _event(self.run_id, fp, action, Outcome(action, True, bot), bot, key)
            )
        elif kind is Kind.DELETE:
            await self.platform.delete_bot(bot)
            await self.store.drop_link(m, f, done(bot))
        return None
