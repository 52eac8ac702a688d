"""Delivering the outbox: every sink on its own, at least once, never lost, never delaying a
pass (it runs beside the passes, as its own task).

A notification is due while a sink configured here has neither delivered it nor given up
on it. Each failed attempt is retried after a capped, jittered backoff (equal jitter: half
of ``min(cap, base x 2^(n-1))`` plus up to as much again; a receiver's ``Retry-After`` is
honoured), for :data:`GIVE_UP_AFTER` from when the notification was made, restarts
included: the attempts and the next due time are stored with it. A sink that delivered a
notification is never sent it again because another sink failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import structlog

from copytrader.core.records import Delivery, Notification
from copytrader.notify.ports import DeliveryFailed, Observer, Outbox, Sink

log = structlog.get_logger("copytrader.notify")

BACKOFF_BASE = 1.0
BACKOFF_CAP = 300.0
#: How long a notification is retried before a sink gives up on it (at least 24 h).
GIVE_UP_AFTER = timedelta(days=3)
#: Longest one attempt may take (the sinks' own timeouts are shorter).
ATTEMPT_SECONDS = 15.0
BATCH = 50
PARALLEL = 4
#: How often ``drain`` looks again for deliveries that became due.
DRAIN_POLL = 0.25


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones (equal jitter)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** max(attempts - 1, 0))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def _now() -> datetime:
    return datetime.now(UTC)


class Sender:
    """Sends due notifications from ``outbox`` to ``sinks``."""

    def __init__(
        self,
        outbox: Outbox,
        sinks: Sequence[Sink],
        *,
        observer: Observer | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.outbox = outbox
        self.sinks = tuple(sinks)
        self.observer = observer
        self.clock = clock
        self._slots = asyncio.Semaphore(PARALLEL)

    async def once(self, *, since: datetime | None = None, limit: int = BATCH) -> int:
        """Attempt every due delivery of up to ``limit`` notifications (made from ``since``
        on, when given) and record what happened; how many notifications were due."""
        if not self.sinks:
            return 0
        due = await self.outbox.due_notifications(self.clock(), limit, since=since)
        if not due:
            return 0
        results = await asyncio.gather(*(self._one(n) for n in due))
        deliveries = [d for done, _ in results for d in done]
        next_due = {n.id: when for n, (_, when) in zip(due, results, strict=True)}
        await self.outbox.record_deliveries(deliveries, next_due, self.clock())
        return len(due)

    async def _one(self, n: Notification) -> tuple[list[Delivery], datetime | None]:
        now = self.clock()
        done: list[Delivery] = []
        waiting: list[Delivery] = []
        async with self._slots:
            for sink in self.sinks:
                d = n.deliveries.get(sink.name) or Delivery(n.id, sink.name)
                if not d.done and (d.next_at is None or d.next_at <= now):
                    d = await self._attempt(sink, n, d)
                    done.append(d)
                if not d.done:
                    waiting.append(d)
        later = [d.next_at or now for d in waiting]
        return done, min(later) if later else None

    async def _attempt(self, sink: Sink, n: Notification, d: Delivery) -> Delivery:
        at = self.clock()
        wait: float | None = None
        try:
            await asyncio.wait_for(sink.send(n), ATTEMPT_SECONDS)
        except DeliveryFailed as exc:
            reason, wait = exc.reason, exc.retry_after
        except TimeoutError:
            reason = f"{sink.kind}: no answer within {ATTEMPT_SECONDS:g} s"
        except Exception as exc:  # a sink's bug must not stop the others; its text may hold a URL
            reason = f"{sink.kind}: {type(exc).__name__}"
        else:
            self._count(sink.kind, "delivered")
            log.info("notification delivered", sink=sink.name, id=n.id, action=n.action,
                     attempt=d.attempts + 1)  # fmt: skip
            return Delivery(n.id, sink.name, d.attempts + 1, None, at, at, None, None)
        attempts = d.attempts + 1
        if at - n.created_at >= GIVE_UP_AFTER:
            self._count(sink.kind, "gave_up")
            log.error("notification given up", sink=sink.name, id=n.id, action=n.action,
                      attempts=attempts, error=reason)  # fmt: skip
            return Delivery(n.id, sink.name, attempts, None, at, None, at, reason)
        delay = max(backoff(attempts), min(wait or 0.0, BACKOFF_CAP))
        self._count(sink.kind, "failed")
        log.warning("notification not delivered; will retry", sink=sink.name, id=n.id,
                    action=n.action, attempt=attempts, retry_in_seconds=round(delay, 1),
                    error=reason)  # fmt: skip
        return Delivery(n.id, sink.name, attempts, at + timedelta(seconds=delay), at, None, None,
                        reason)  # fmt: skip

    def _count(self, kind: str, outcome: str) -> None:
        if self.observer is not None:
            self.observer.on_delivery(kind, outcome)

    async def backlog(self) -> tuple[int, float]:
        """Unsettled notifications and the age in seconds of the oldest (0 when none); also
        given to the observer."""
        count, oldest = await self.outbox.outbox_backlog()
        age = (self.clock() - oldest).total_seconds() if oldest is not None else 0.0
        if self.observer is not None:
            self.observer.on_backlog(count, max(age, 0.0))
        return count, age

    async def drain(self, *, since: datetime, seconds: float) -> bool:
        """Deliver the notifications made from ``since`` on, retrying them (after their
        backoff) for ``seconds`` at most, then, in the time left, one round of the older
        ones that are due: ``reconcile`` before it exits. True when its own are all settled;
        the rest stays in the outbox for the next process."""
        if not self.sinks:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            await self.once(since=since)
            left, _ = await self.outbox.outbox_backlog(since=since)
            remaining = deadline - loop.time()
            if not left or remaining <= 0:
                break
            await asyncio.sleep(min(DRAIN_POLL, remaining))
        remaining = deadline - loop.time()
        if remaining > 0:  # an earlier process's notifications, when they are due
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.once(), remaining)
        return not left

    async def close(self) -> None:
        for sink in self.sinks:
            await sink.close()
