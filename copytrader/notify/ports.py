"""What the sender needs: an outbox to read and record deliveries in, sinks to send to, and
an observer to count what happened (the daemon's metrics)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from copytrader.core.records import Delivery, Notification


class DeliveryFailed(Exception):
    """A sink did not take a notification. ``reason`` is safe to log and store (never a URL
    or a secret); ``retry_after``: seconds the receiver asked to wait, if it did."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Sink(Protocol):
    """Somewhere notifications go. ``name`` identifies it in the outbox (stable across
    restarts, never the URL); ``kind`` is its type for metrics (``webhook``, ``apprise``)."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    async def send(self, notification: Notification) -> None:
        """Deliver it, or raise DeliveryFailed."""
        ...

    async def close(self) -> None: ...


class Outbox(Protocol):
    """The outbox in the store (``copytrader.store.outbox.OutboxStore``)."""

    async def due_notifications(
        self, now: datetime, limit: int, *, since: datetime | None = None
    ) -> list[Notification]: ...

    async def record_deliveries(
        self,
        deliveries: Sequence[Delivery],
        next_due: Mapping[str, datetime | None],
        now: datetime,
    ) -> None: ...

    async def outbox_backlog(
        self, *, since: datetime | None = None
    ) -> tuple[int, datetime | None]: ...


class Observer(Protocol):
    """Counts deliveries (``copytrader.daemon.metrics.Metrics``)."""

    def on_delivery(self, kind: str, outcome: str) -> None:
        """One attempt to one sink: ``outcome`` ``delivered``, ``failed`` or ``gave_up``."""
        ...

    def on_backlog(self, pending: int, oldest_seconds: float) -> None: ...
