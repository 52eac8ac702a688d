"""The reconcile pass: read, plan, execute, record.

:class:`Reconciler` is wired with a platform, a store and an audit-trail factory (the
adapters), and is used by ``copytrader plan``, ``reconcile``, ``drift`` and the daemon. A
pass is level-triggered: it re-reads everything and converges from wherever the platform is.

The platform's sweep comes in parts (one on HaasOnline; the master account, then each
follower account on BotPrimeX): a pass plans, audits and executes each part as soon as it
is read (:mod:`copytrader.reconcile.parts`), so a slow or rate-limited follower account
never holds the others back, and one that cannot be read leaves only its own followers
unsettled.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import structlog

from copytrader.core.plan import Plan
from copytrader.core.policy import Policy, Problem
from copytrader.core.records import AuditEvent, RunRecord
from copytrader.errors import CopytraderError
from copytrader.reconcile import episodes, observed, parts, reading
from copytrader.reconcile.executor import Audit, FollowerResult, Outcome
from copytrader.reconcile.invalid import InvalidFiles
from copytrader.reconcile.parts import WITH_STATE
from copytrader.reconcile.ports import Lease, Platform, Store
from copytrader.reconcile.standing import STANDING, Standing

log = structlog.get_logger("copytrader.reconcile")


def aborted_detail(writes_recorded: int) -> str:
    """What an aborted pass's audit event says was written: nothing when it ended before its
    first write was recorded; otherwise how many writes may have reached the platform."""
    if not writes_recorded:
        return "the pass ended before its first write: nothing was written"
    plural = "write was" if writes_recorded == 1 else "writes were"
    return (
        f"the pass ended after {writes_recorded} platform {plural} recorded as about to be "
        "sent; each has its own audit event, and one whose outcome could not be recorded "
        "stays pending until a leader settles it unknown (at its next takeover or clean "
        "stop); the next pass reads the platform and converges"
    )


@dataclass(frozen=True)
class PassResult:
    """What one reconcile pass did."""

    run_id: str
    plan: Plan
    outcomes: tuple[Outcome, ...]
    problems: tuple[Problem, ...]
    state: str  # ok | failed | aborted
    requests: int
    error: str | None = None
    results: tuple[FollowerResult, ...] = field(default=())
    policies: tuple[Policy, ...] = field(default=())  # the valid policies the plan is of
    #: Each follower account whose part of the sweep could not be read, with why.
    unread: dict[str, str] = field(default_factory=dict)
    fenced: bool = False  # writes stopped: the writer lease was lost
    #: Writes whose pending event was committed (each may have reached the platform): an
    #: aborted pass that has some did write, and its audit trail says so.
    writes_recorded: int = 0

    @property
    def unsettled(self) -> int:
        """Listed followers left without a clone: one still pending or not seen, every
        follower of a policy whose master bot is missing from the platform, and every
        follower whose account could not be read."""
        missing = {n.master for n in self.plan.notes if n.action == "master_missing"}
        return (
            sum(1 for r in self.results if r.plan.desired is not None and r.bot is None)
            + sum(len(p.followers) for p in self.policies if p.master in missing)
            + sum(
                1
                for p in self.policies
                if p.master not in missing
                for f in p.followers
                if f.user in self.unread
            )
        )

    @property
    def converged(self) -> bool:
        """True when every action succeeded, every listed follower has its clone, and every
        policy file was valid."""
        return self.state == "ok" and not self.problems and not self.unsettled

    def to_json(self) -> dict[str, Any]:
        """The contract's ``reconcile --json`` document: the plan's, each action with its
        ``outcome`` and ``error``."""
        done = {id(o.action): o for o in self.outcomes}
        actions = []
        for action in self.plan.actions:
            o = done.get(id(action))
            if o is None:
                doc = action.to_json()
                doc.update(outcome="failed", error="not attempted: an earlier step failed")
            else:
                doc = o.to_json()
            actions.append(doc)
        doc_ = {**self.plan.to_json(self.problems), "actions": actions}
        if self.unread:  # an extension of the contract's shape, present only when needed
            doc_["unread"] = [{"account": a, "error": e} for a, e in sorted(self.unread.items())]
        return doc_


AuditFactory = Callable[[str], Audit]

__all__ = ["STANDING", "WITH_STATE", "AuditFactory", "PassResult", "Reconciler", "new_run_id"]


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


class Reconciler:
    """Reads, plans and converges. One instance per process keeps the user cache."""

    def __init__(
        self,
        platform: Platform,
        store: Store,
        policy_dir: Path,
        audit: AuditFactory,
        *,
        concurrency: int = 8,
        keep_last_good: bool = False,
        clone_pending_seconds: float = 60.0,
        lease: Lease | None = None,
    ) -> None:
        """``keep_last_good`` (the daemon): an invalid edit of a policy file keeps that
        file's last good version in force instead of leaving its followers alone.
        ``lease``: the writer lease every platform write is fenced by."""
        self.lease = lease
        self.platform = platform
        self.store = store
        self.policy_dir = policy_dir
        self.audit_factory = audit
        self.concurrency = concurrency
        self.clone_pending_seconds = clone_pending_seconds
        self.users = reading.UserCache()
        self.policies = reading.PolicyCache()
        self.invalid = InvalidFiles(store)
        self.standing = Standing(store)
        self.last_result: PassResult | None = None
        self._masters_seen: dict[str, object] = {}
        self.episodes = episodes.Episodes(store)
        self._last_good: dict[str, Policy] | None = {} if keep_last_good else None

    async def read(self) -> reading.Reading:
        """Everything a plan needs, every part of the sweep included (read requests only)."""
        return await reading.read(
            self.platform,
            self.store,
            self.policy_dir,
            self.users,
            self._last_good,
            self.policies,
        )

    async def plan(self) -> tuple[Plan, tuple[Problem, ...]]:
        """What a pass would do now. Sends read requests only and writes nothing."""
        r = await self.read()
        _warn_unread(r.unread)
        return r.plan(), r.problems

    async def drift(self) -> list[dict[str, Any]]:
        """Every listed follower whose clone differs from its desired state now (read-only on
        the platform); what it finds is recorded as ``drift`` audit events."""
        r = await self.read()
        _warn_unread(r.unread)
        found = observed.drift(r.plan(), r.world)
        run_id = new_run_id()
        trail = self.audit_factory(run_id)
        for d in found:
            await trail.emit(
                AuditEvent(
                    ts=datetime.now(UTC),
                    run_id=run_id,
                    action="drift",
                    master=d["master"],
                    follower=d["follower"],
                    bot=d["bot"],
                    changes=MappingProxyType({k: (v[0], v[1]) for k, v in d["changes"].items()}),
                    outcome="noted",
                    detail="differs from its desired state (copytrader drift)",
                )
            )
        await trail.flush()
        return found

    async def run_pass(self, *, stopping: Callable[[], bool] = lambda: False) -> PassResult:
        """One reconcile pass, recorded as a run. Never raises for platform errors."""
        run = RunRecord(run_id=new_run_id(), started_at=datetime.now(UTC))
        await self.store.start_run(run)
        trail = self.audit_factory(run.run_id)
        sent_before = self.platform.requests_sent
        progress = parts.Progress()
        try:
            result = await self._pass(run.run_id, trail, stopping, progress)
        except CopytraderError as exc:
            wrote = progress.writes_recorded
            log.warning("pass aborted", run_id=run.run_id, error=str(exc), writes_recorded=wrote)
            await trail.emit(
                AuditEvent(
                    ts=datetime.now(UTC),
                    run_id=run.run_id,
                    action="pass_aborted",
                    outcome="failed",
                    error=str(exc),
                    detail=aborted_detail(wrote),
                )
            )
            result = PassResult(run.run_id, Plan(), (), (), "aborted", 0, str(exc),
                                writes_recorded=wrote)
        finally:
            await trail.flush()
        requests = self.platform.requests_sent - sent_before
        ok = sum(1 for o in result.outcomes if o.ok)
        failed = sum(1 for o in result.outcomes if not o.ok)
        await self.store.finish_run(
            RunRecord(
                run_id=run.run_id,
                started_at=run.started_at,
                finished_at=datetime.now(UTC),
                state=result.state,
                actions_ok=ok,
                actions_failed=failed,
                requests=requests,
                errors=failed + len(result.problems) + (1 if result.error else 0),
                detail=result.error,
            )
        )
        result = dataclasses.replace(result, requests=requests)
        await self.episodes.after(
            run.run_id,
            trail,
            aborted=result.state == "aborted",
            error=result.error,
            results=result.results,
            masters=[p.master for p in result.policies],
            fenced=result.fenced,
        )
        self.last_result = result
        log.info(
            "pass finished",
            run_id=run.run_id,
            state=result.state,
            actions_ok=ok,
            actions_failed=failed,
            requests=requests,
            invalid_files=len({p.file for p in result.problems}),
        )
        return result

    async def _pass(self, run_id: str, trail: Audit, stopping: Callable[[], bool],
                    progress: parts.Progress) -> PassResult:
        r, rest = await reading.read_head(
            self.platform,
            self.store,
            self.policy_dir,
            self.users,
            self._last_good,
            self.policies,
        )
        await self.invalid.report(run_id, trail, r)
        run = parts.PartRun(
            self.platform,
            self.store,
            trail,
            run_id,
            r,
            self.standing.begin({pol.master for pol in r.policies}),
            parts.Execution(
                concurrency=self.concurrency,
                stopping=stopping,
                clone_pending_seconds=self.clone_pending_seconds,
                lease=self.lease,
                progress=progress,
            ),
        )
        p, results, unread = await run.run(rest)
        outcomes = tuple(o for res in results for o in res.outcomes)
        await self.store.add_snapshots(
            observed.snapshots(run_id, r.policies, run.bots, results)
            + observed.unread(run_id, r.policies, r.links, unread)
        )
        await self._record_masters(r)
        failed = bool(unread) or any(res.failed for res in results if res.plan.actions)
        return PassResult(
            run_id,
            p,
            outcomes,
            r.problems,
            "failed" if failed else "ok",
            0,
            results=tuple(results),
            policies=r.policies,
            unread=unread,
            fenced=run.fenced,
            writes_recorded=progress.writes_recorded,
        )

    async def _record_masters(self, r: reading.Reading) -> None:
        """Record each policy master's settings and script when they differ from what this
        process recorded last (the dashboard computes desired settings from them)."""
        found = observed.master_states(r.policies, r.masters, r.world.catalogue)
        changed = [
            s for s in found
            if self._masters_seen.get(s.master) != (s.status, dict(s.settings), s.script)
        ]
        if changed:
            await self.store.save_master_states(changed)
            for s in changed:
                self._masters_seen[s.master] = (s.status, dict(s.settings), s.script)


def _warn_unread(unread: dict[str, str]) -> None:
    for account, error in sorted(unread.items()):
        log.warning("account not read; its followers are not planned", account=account,
                    error=error)
