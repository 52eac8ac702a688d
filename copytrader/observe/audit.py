"""The audit trail: every decision and platform write, as a log line and a database row.

``emit`` logs the event at once (structlog event ``audit``) and buffers it; ``flush`` writes
the buffer in one transaction. The reconcile service flushes after each follower and at the
end of a pass, so an interrupted pass loses at most the events of the follower in progress.
Free text (``error``, ``detail``) is passed through the secret redaction before it is logged
or stored, so log line and row carry the same content.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC
from typing import Any, Protocol

import structlog

from copytrader.core.records import AuditEvent
from copytrader.observe import redact

_log = structlog.get_logger("copytrader.audit")


class EventSink(Protocol):
    """Where flushed events go: the ``add_events`` part of the reconcile ``Store`` port."""

    async def add_events(self, events: Sequence[AuditEvent]) -> None: ...


def fields(event: AuditEvent) -> dict[str, Any]:
    """The JSON fields of ``event``: the contract's nine, then the provenance fields."""
    return {**event.to_dict(), "ts": event.ts.astimezone(UTC).isoformat().replace("+00:00", "Z")}


def _masked(event: AuditEvent) -> AuditEvent:
    error = None if event.error is None else redact.mask_text(event.error)
    detail = None if event.detail is None else redact.mask_text(event.detail)
    if error == event.error and detail == event.detail:
        return event
    return dataclasses.replace(event, error=error, detail=detail)


class AuditTrail:
    """The audit trail of one run. ``store`` None: log only (e.g. ``plan``)."""

    def __init__(self, store: EventSink | None, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self._pending: list[AuditEvent] = []
        self._flushing = asyncio.Lock()

    @property
    def pending(self) -> int:
        """How many emitted events are not yet written to the store."""
        return len(self._pending)

    def mask(self, event: AuditEvent) -> AuditEvent:
        """``event`` with its free text masked, as it must be stored (not logged yet)."""
        return _masked(event)

    def log(self, event: AuditEvent) -> AuditEvent:
        """Log ``event`` now, without buffering it: for an event the caller writes to the
        store itself, in the same transaction as the change it records. Returns the event
        with its free text masked, as it must be stored."""
        event = _masked(event)
        _log.info("audit", **fields(event))
        return event

    async def emit(self, event: AuditEvent) -> None:
        """Log ``event`` now (structlog ``audit`` at info) and buffer it for :meth:`flush`."""
        event = _masked(event)
        _log.info("audit", **fields(event))
        if self.store is not None:
            self._pending.append(event)

    async def flush(self) -> None:
        """Write the buffered events in one transaction.

        On a StoreError the events stay buffered (a later flush retries) and the error
        propagates.
        """
        if self.store is None:
            return
        async with self._flushing:
            batch = list(self._pending)
            if not batch:
                return
            await self.store.add_events(batch)
            # Events emitted while the write was in flight stay for the next flush.
            del self._pending[: len(batch)]
