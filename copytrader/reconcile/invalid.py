"""``policy_invalid``: an invalid policy file version is audited once for the life of the
database, not once per process (a ``reconcile`` every minute from cron, or a restarted
daemon, must not audit and notify the same broken file again and again).

The record is a standing condition per file (the store's ``standing_conditions``, scoped by
a pseudo-master ``policy-file:PATH`` that no policy's master can be): its key is the digest of
the file's path and content. A new version of the file, invalid too, is audited again; a file
that becomes valid loses its record, so that it is audited again should it break once more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

import structlog

from copytrader.core.policy import Problem
from copytrader.core.records import AuditEvent, StandingCondition
from copytrader.reconcile.executor import Audit
from copytrader.reconcile.ports import Store
from copytrader.reconcile.reading import Reading

log = structlog.get_logger("copytrader.reconcile")

ACTION = "policy_invalid"


def scope(path: str) -> str:
    """The pseudo-master the record of ``path`` is kept under."""
    return f"policy-file:{path}"


def key(path: str, sha: str) -> str:
    """The condition key of ``path`` at content ``sha``."""
    return hashlib.sha256(f"{ACTION}\0{path}\0{sha}".encode()).hexdigest()


class InvalidFiles:
    """What a reconciler knows of the invalid policy files it has reported."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._reported: dict[str, str] = {}  # path -> sha of the version on record
        self._first = True

    async def report(self, run_id: str, trail: Audit, r: Reading) -> None:
        """Audit each invalid file version not on record yet; forget the files that are
        valid again."""
        by_file: dict[str, list[Problem]] = {}
        for problem in r.problems:
            by_file.setdefault(problem.file, []).append(problem)
        await self._forget(r, by_file)
        for path, problems in sorted(by_file.items()):
            sha = r.invalid_files.get(path, "")
            if self._reported.get(path) == sha:
                continue
            self._reported[path] = sha
            if key(path, sha) in await self.store.standing([scope(path)]):
                continue  # audited by an earlier process
            for problem in problems:
                log.error("policy invalid", problem=str(problem))
            await trail.emit(
                AuditEvent(
                    ts=datetime.now(UTC),
                    run_id=run_id,
                    action=ACTION,
                    outcome="failed",
                    master=r.invalid_masters.get(path),
                    error="; ".join(str(p) for p in problems),
                    policy_file=path,
                    policy_sha256=sha or None,
                    detail="nothing of this file is applied; its followers are left as they are",
                )
            )
            condition = StandingCondition(
                key(path, sha), ACTION, scope(path), None, None, datetime.now(UTC)
            )
            await self.store.save_standing([scope(path)], [condition])

    async def _forget(self, r: Reading, invalid: Iterable[str]) -> None:
        """Drop the record of the files that are valid now: those this process reported
        that are no longer invalid, and at the first pass of a process every valid file
        (one may have been fixed while no copytrader ran)."""
        invalid = set(invalid)
        valid = [path for path in self._reported if path not in invalid]
        for path in valid:
            del self._reported[path]
        if self._first:
            self._first = False
            valid += [p.source.path for p in r.policies if p.source.path not in invalid]
        if valid:
            await self.store.save_standing(sorted({scope(p) for p in valid}), [])
