"""The daemon's timetable on APScheduler 3: the reconcile job and the snapshot-retention job.

The reconcile job runs at start and then every interval plus a random jitter of up to 10%
(many daemons on one platform do not all hit it on the same second), one instance at a time,
coalescing missed runs. :meth:`Scheduler.set_delay` stretches the period while the platform
is unreachable and puts it back afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.interval import IntervalTrigger

RECONCILE_JOB = "reconcile"
RETENTION_JOB = "retention"
JITTER = 0.1
RETENTION_PERIOD = timedelta(hours=1)

Job = Callable[[], Awaitable[None]]

# APScheduler logs every run at INFO ("Running job ..."); its warnings (misfires) still show.
logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _trigger(seconds: float) -> IntervalTrigger:
    return IntervalTrigger(seconds=seconds, jitter=seconds * JITTER, timezone=UTC)


class Scheduler:
    """An ``AsyncIOScheduler`` with the two jobs. Start it inside the running loop."""

    def __init__(self, interval: float, reconcile: Job, retention: Job) -> None:
        self.interval = interval
        self.delay = interval
        self._reconcile = reconcile
        self._retention = retention
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`shutdown` (paused counts as not running)."""
        return bool(self._scheduler.running) and self._scheduler.state == STATE_RUNNING

    def start(self) -> None:
        """Add the jobs (the first reconcile right now) and start."""
        now = datetime.now(UTC)
        self._scheduler.add_job(
            self._reconcile, _trigger(self.interval), id=RECONCILE_JOB, name="reconcile pass",
            max_instances=1, coalesce=True,
            # A late run (the loop was busy) is still worth doing: a pass is level-triggered.
            misfire_grace_time=max(30, int(self.interval)),
            next_run_time=now,
        )
        self._scheduler.add_job(
            self._retention, IntervalTrigger(seconds=RETENTION_PERIOD.total_seconds(),
                                             timezone=UTC),
            id=RETENTION_JOB, name="snapshot retention", max_instances=1, coalesce=True,
            misfire_grace_time=3600, next_run_time=now + timedelta(seconds=1),
        )
        self._scheduler.start()

    def set_delay(self, seconds: float) -> None:
        """Run the reconcile job every ``seconds`` from now on (no-op when unchanged)."""
        if seconds == self.delay or not self.running:
            return
        self.delay = seconds
        self._scheduler.reschedule_job(RECONCILE_JOB, trigger=_trigger(seconds))

    def next_run_in(self) -> float | None:
        """Seconds until the next reconcile run, if one is scheduled."""
        job = self._scheduler.get_job(RECONCILE_JOB)
        if job is None or job.next_run_time is None:
            return None
        when: datetime = job.next_run_time
        return max(0.0, (when - datetime.now(UTC)).total_seconds())

    def pause(self) -> None:
        """Start no more jobs (those running go on)."""
        if self._scheduler.running:
            self._scheduler.pause()

    def shutdown(self) -> None:
        """Stop the scheduler (it cancels any job task still running)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
