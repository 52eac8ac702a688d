"""After each pass: the failure episodes it begins or ends (:mod:`copytrader.core.episodes`),
recorded with their audit events in one transaction, so each is announced once, restarts
included."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from types import MappingProxyType

import structlog

from copytrader.core import episodes
from copytrader.core.records import AuditEvent
from copytrader.errors import CopytraderError
from copytrader.reconcile.executor import Audit, FollowerResult
from copytrader.reconcile.ports import Store

log = structlog.get_logger("copytrader.reconcile")


def observed(results: Sequence[FollowerResult], fenced: bool) -> list[episodes.Observed]:
    """Each follower with writes this pass: failed (a write failed), fine (every action
    done), or unknown (stopped before its writes: shutdown, or the writer lease lost)."""
    out = []
    for res in results:
        fp = res.plan
        if not fp.actions:
            failed: bool | None = False
            error = None
        else:
            bad = [o for o in res.outcomes if not o.ok]
            failed = (
                (None if fenced else True)
                if bad
                else (False if len(res.outcomes) == len(fp.actions) else None)
            )
            error = bad[0].error if bad else None
        key = episodes.write_key(fp.master, fp.follower)
        out.append(episodes.Observed(key, episodes.WRITES, fp.master, fp.follower, failed, error))
    return out


def event(run_id: str, a: episodes.Announcement) -> AuditEvent:
    """The audit event of an announcement."""
    return AuditEvent(
        ts=datetime.now(UTC),
        run_id=run_id,
        action=a.action,
        master=a.master,
        follower=a.follower,
        changes=MappingProxyType(dict(a.changes)),
        outcome="ok" if a.action == "recovered" else "failed",
        error=a.error,
        detail=a.detail,
    )


class Episodes:
    """The episodes of one process's passes. Reads the stored streaks only when there may be
    any (the first pass, or a pass that failed somewhere): a steady pass costs no query."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._any = True

    async def after(
        self,
        run_id: str,
        trail: Audit,
        *,
        aborted: bool,
        error: str | None,
        results: Sequence[FollowerResult],
        masters: Sequence[str],
        fenced: bool,
    ) -> None:
        """Record what this pass begins or ends. A database failure is logged, not raised:
        the next pass sees the same streaks and tries again."""
        seen = [episodes.platform(aborted, error)]
        if not aborted:
            seen += observed(results, fenced)
        if not self._any and not any(o.failed for o in seen):
            return
        try:
            before = {e.key: e for e in await self.store.episodes()}
            planned = {(r.plan.master, r.plan.follower) for r in results}
            if not aborted:
                seen += episodes.gone(before, planned, masters)
            step = episodes.step(before, seen, datetime.now(UTC))
            events = [trail.log(event(run_id, a)) for a in step.announce]
            await self.store.save_episodes(step.save, step.drop, events)
        except CopytraderError as exc:
            log.warning("could not record failure episodes", run_id=run_id, error=str(exc))
            return
        kept = (set(before) - set(step.drop)) | {e.key for e in step.save}
        self._any = bool(kept)
