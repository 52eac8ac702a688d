"""``copytrader run``: the daemon that reconciles every interval until it is told to stop.

Start-up: open the database (migrating it) and the platform client, close the runs a crash
left open, listen on the health/metrics endpoint, then tell systemd READY=1 and start the
timetable (the first pass at once). While running: a pass every interval (stretched while the
platform is unreachable), another soon after a policy change, SIGHUP or a webhook's bot
event, never two at once; STATUS= after each pass; WATCHDOG=1 while the loop is healthy.
Stop (SIGTERM/SIGINT): STOPPING=1, no new work, the pass in progress starts no new action and
finishes its writes within ``shutdown_timeout_seconds`` (cancelled and recorded
``interrupted`` past that; a second signal cancels it at once), then exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from copytrader.daemon import health, standby, webhooks
from copytrader.daemon.delivery import DeliveryLoop
from copytrader.daemon.http import HttpEndpoint, require_token
from copytrader.daemon.metrics import CONTENT_TYPE, Metrics
from copytrader.daemon.passes import Finished, PassRunner, backoff_delay
from copytrader.daemon.scheduler import Scheduler
from copytrader.daemon.sdnotify import Notifier
from copytrader.daemon.signals import SignalHandlers
from copytrader.daemon.watch import FolderWatch
from copytrader.errors import CopytraderError
from copytrader.notify import sinks
from copytrader.notify.sender import Sender
from copytrader.observe import redact
from copytrader.platform.backoff import MAX_RETRY_AFTER
from copytrader.reconcile import wiring
from copytrader.reconcile.leadership import Leadership
from copytrader.settings import Settings
from copytrader.store import queries
from copytrader.store.engine import safe_url
from copytrader.web import live
from copytrader.web.dashboard import Dashboard

log = structlog.get_logger("copytrader.daemon")

#: Event loop lag above which the watchdog is not fed (the loop is starved or blocked).
MAX_LOOP_LAG = 2.0
PING_TIMEOUT = 5.0


class Daemon:
    """The daemon's parts and their lifecycle; :meth:`serve` runs it until stopped.

    ``ready`` is set once READY=1 was sent; ``service`` and ``endpoint`` are then usable
    (the demo reads the store and the endpoint's URL through them). ``passed`` is set once
    the first pass finished.
    """

    def __init__(self, settings: Settings, *, notifier: Notifier | None = None,
                 handle_signals: bool = True, watch_poll: float = 1.0) -> None:
        d = settings.daemon
        self.settings = settings
        self.token = require_token(d.http_listen[0], d.http_token)  # ConfigError before any I/O
        if d.http_token:
            redact.register_secret(d.http_token.reveal())
        for secret in settings.notify.secrets():
            redact.register_secret(secret)
        self.sinks = sinks.build(settings.notify)  # ConfigError before any I/O
        self.notifier = notifier if notifier is not None else Notifier.from_env()
        self.metrics = Metrics()
        self.handle_signals = handle_signals
        self.watch_poll = watch_poll
        self.interval = d.interval_seconds
        self.limits = health.Limits(
            window=3 * self.interval + d.shutdown_timeout_seconds,
            # A moving pass finishes a request at least every timeout, retry backoff or
            # Retry-After wait; past all of those together it is stuck.
            stuck_after=MAX_RETRY_AFTER + 2 * settings.platform.timeout_seconds + self.interval,
        )
        self.started = time.monotonic()
        self.ready = asyncio.Event()
        self.passed = asyncio.Event()  # set once the first pass finished
        self.service: wiring.Service | None = None
        self.runner: PassRunner | None = None
        self.endpoint: HttpEndpoint | None = None
        self.dashboard: Dashboard | None = None
        self.scheduler: Scheduler | None = None
        self._stop = asyncio.Event()
        self._stop_reason = ""
        self._stop_requests = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.leadership: Leadership | None = None
        self._standby_text: str | None = None
        self.delivery: DeliveryLoop | None = None

    # -- control ------------------------------------------------------------------------

    def stopping(self) -> bool:
        """True once a stop was requested: the executor starts no new action."""
        return self._stop.is_set()

    def request_stop(self, reason: str = "requested") -> None:
        """Begin a clean stop (SIGTERM/SIGINT); a second request cancels the pass at once."""
        self._stop_requests += 1
        if self._stop_requests > 1:
            log.warning("second stop request: cancelling the pass in progress", reason=reason)
            if self.runner is not None:
                self.runner.cancel()
            return
        self._stop_reason = reason
        self._stop.set()

    def request_reload(self) -> None:
        """SIGHUP: re-read the policy folder now (a pass), then READY=1 again."""
        if self.stopping() or not self.ready.is_set():
            return
        log.info("reload requested: re-reading the policy folder")
        self.notifier.reloading("reloading: re-reading the policy folder")
        self._trigger("reload")

    def _trigger(self, reason: str) -> None:
        if self.runner is not None and not self.stopping():
            self._spawn(self.runner.request(reason, queue=True))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- run ----------------------------------------------------------------------------

    async def serve(self) -> int:
        """Run until stopped; 0 on a clean stop. Start-up errors (ConfigError for the
        endpoint, StoreError for the database) propagate to the caller."""
        signals = (SignalHandlers(self.request_stop, self.request_reload)
                   if self.handle_signals else contextlib.nullcontext())
        with signals:
            async with wiring.open_service(self.settings, observer=self.metrics,
                                           daemon=True) as svc:
                self.service = svc
                self.leadership = Leadership(
                    svc.lease, svc.store,
                    clone_pending_seconds=svc.reconciler.clone_pending_seconds,
                )
                # Passes run only while this process leads (a standby writes nothing).
                self.runner = PassRunner(svc.reconciler, after=self._after_pass,
                                         stopping=lambda: self.stopping() or not self.leading)
                self.webhooks = webhooks.build(self.settings, svc.store, self.metrics,
                                               self.runner, self._spawn)  # None: no route
                host, port = self.settings.daemon.http_listen
                # The dashboard reuses the reconciler's load of the policy folder.
                self.dashboard = Dashboard(svc.store, self.settings.policy_dir, self.token,
                                           policies=svc.reconciler.policies)
                self.endpoint = HttpEndpoint(host, port, self.token, health=self.health,
                                             metrics=self.metrics.render,
                                             content_type=CONTENT_TYPE,
                                             dashboard=self.dashboard,
                                             extra_routes=webhooks.routes(self.webhooks))
                await self.endpoint.start()
                try:
                    await self._run(svc)
                finally:
                    for task in list(self._tasks):
                        task.cancel()
                    await asyncio.gather(*self._tasks, return_exceptions=True)
                    await self.endpoint.stop()
        log.info("daemon stopped", reason=self._stop_reason)
        return 0

    async def _run(self, svc: wiring.Service) -> None:
        assert self.runner is not None and self.endpoint is not None
        self.scheduler = Scheduler(self.interval, self._scheduled_pass, self._retention)
        self._spawn(FolderWatch(self.settings.policy_dir, self._policy_changed,
                                poll=self.watch_poll).run())
        if self.notifier.watchdog_interval:
            self._spawn(self._watchdog(self.notifier.watchdog_interval))
        self.scheduler.start()
        self.notifier.ready("ready; taking the writer lease")
        self._spawn(self._lease_loop())
        if self.sinks:  # notifications: sent by the leader, beside the passes
            sender = Sender(svc.store, self.sinks, observer=self.metrics)
            self.delivery = DeliveryLoop(sender, leading=lambda: self.leading,
                                         stopping=self.stopping)
            self._spawn(self.delivery.run())
        log.info("daemon started", interval_seconds=self.interval,
                 policy_dir=str(self.settings.policy_dir), http=self.endpoint.url,
                 database=safe_url(self.settings.database_url),
                 watchdog_seconds=self.notifier.watchdog_interval)
        self.ready.set()
        await self._stop.wait()
        await self._shutdown(svc)

    async def _shutdown(self, svc: wiring.Service) -> None:
        assert self.runner is not None and self.scheduler is not None
        log.info("daemon stopping", reason=self._stop_reason)
        self.notifier.stopping(f"stopping ({self._stop_reason}): finishing the current pass")
        self.scheduler.pause()
        timeout = self.settings.daemon.shutdown_timeout_seconds
        await webhooks.close(self.webhooks, within=min(timeout, 5.0))  # later ones: 503
        if not await self.runner.drain(timeout):
            log.warning("the pass in progress was cancelled at shutdown")
        self.scheduler.shutdown()
        await asyncio.sleep(0)  # the scheduler shuts down on the loop's next turn
        if not self.leading:
            return  # a standby has nothing of its own to settle
        try:
            # A cancelled pass never wrote its end: record it as interrupted, not running.
            closed = await svc.store.close_open_runs(
                datetime.now(UTC), clone_pending_seconds=svc.reconciler.clone_pending_seconds
            )
        except CopytraderError as exc:
            log.error("could not record the interrupted pass", error=str(exc))
        else:
            if closed:
                log.warning("pass recorded as interrupted", count=closed)
        try:
            assert self.leadership is not None
            await self.leadership.give_up()  # a standby takes over at once
        except CopytraderError as exc:
            log.error("could not give the writer lease up; it will expire", error=str(exc))

    # -- the writer lease ---------------------------------------------------------------

    @property
    def leading(self) -> bool:
        """True while this process holds the writer lease (it may write to the platform)."""
        return self.leadership is not None and self.leadership.lease.held

    async def _lease_loop(self) -> None:
        """As a standby, look for a free lease; as the leader, renew it (a fifth of it)."""
        assert self.leadership is not None
        leadership = self.leadership
        while not self.stopping():
            try:
                if not leadership.lease.held:
                    if await leadership.take():
                        self._became_leader()
                        continue
                    await self._standby_status()
                    await asyncio.sleep(leadership.standby_poll)
                    continue
                await leadership.keep(self._lost)
            except CopytraderError as exc:  # the database is unreachable: try again later
                log.warning("writer lease check failed", error=str(exc))
                if leadership.lease.held:
                    await leadership.step_down(f"lease check failed: {exc}")
                    await self._lost(str(exc))
                await asyncio.sleep(leadership.standby_poll)

    def _became_leader(self) -> None:
        assert self.leadership is not None
        self.metrics.leader.set(1)
        self._standby_text = None
        self.notifier.status(
            f"leader (writer lease epoch {self.leadership.lease.epoch}); pass starting"
        )
        self._trigger("lease acquired")

    async def _lost(self, reason: str) -> None:
        self.metrics.leader.set(0)
        self._standby_text = None
        await self._standby_status()

    async def _standby_status(self) -> None:
        """STATUS= for a standby, sent when the leader it sees changes."""
        holding = await self.leadership.holder() if self.leadership else None
        text = f"standby: leader is {holding.describe() if holding else 'nobody (taking over)'}"
        if text != self._standby_text:
            self._standby_text = text
            log.info(
                "standby: another process holds the writer lease",
                leader=holding.describe() if holding else None,
            )
            self.notifier.status(text)

    # -- jobs ---------------------------------------------------------------------------

    async def _scheduled_pass(self) -> None:
        assert self.runner is not None
        await self.runner.request("interval", queue=False)

    def _policy_changed(self, change: dict[str, list[str]]) -> None:
        self.notifier.status("policy folder changed; pass queued")
        self._trigger("policy change")

    async def _retention(self) -> None:
        assert self.service is not None
        cutoff = datetime.now(UTC) - timedelta(days=self.settings.daemon.retention_days)
        try:
            pruned = await self.service.store.prune(cutoff)
        except CopytraderError as exc:
            log.warning("snapshot retention failed", error=str(exc))
            return
        if pruned:
            log.info("old snapshots pruned", count=pruned, older_than=queries.iso(cutoff))
        try:  # delivered notifications are kept as long as snapshots; pending ones always
            await self.service.store.prune_notifications(cutoff)
        except CopytraderError as exc:
            log.warning("notification retention failed", error=str(exc))

    async def _after_pass(self, finished: Finished, aborts: int) -> None:
        assert self.service is not None and self.scheduler is not None
        assert self.runner is not None
        if finished.result is not None:
            self.metrics.observe_pass(finished.result, finished.seconds, aborts)
            if self.dashboard is not None:  # open pages update now, not at the next poll
                self.dashboard.feed.publish(live.pass_event(
                    finished.result.run_id, finished.state, datetime.fromtimestamp(
                        finished.wall_ended, UTC)))
        else:
            self.metrics.passes.labels(state="error").inc()
            self.metrics.consecutive_aborts.set(aborts)
        try:
            self.metrics.set_masters(await queries.status(self.service.store))
        except CopytraderError as exc:
            log.warning("could not read the status for the metrics", error=str(exc))
        if self.delivery is not None:
            self.delivery.wake()
        delay = backoff_delay(self.interval, aborts)
        if aborts:
            log.warning("pass did not reach the platform; will retry", consecutive=aborts,
                        next_in_seconds=delay, error=finished.error)
        self.scheduler.set_delay(delay)
        summary = self.runner.summary(self.interval)
        self.passed.set()
        if "reload" in finished.reason.split(" + "):
            self.notifier.ready(summary)  # ends the RELOADING=1 state
        else:
            self.notifier.status(summary)

    async def _watchdog(self, period: float) -> None:
        withheld: str | None = None
        while True:
            before = time.monotonic()
            await asyncio.sleep(period)
            lag = time.monotonic() - before - period
            reason = self._unwell(lag)
            if reason is None:
                self.notifier.watchdog()
            elif reason != withheld:
                log.error("watchdog ping withheld", reason=reason)
            withheld = reason

    def _unwell(self, lag: float) -> str | None:
        """Why the watchdog must not be fed now (None: feed it)."""
        if lag > MAX_LOOP_LAG:
            return f"event loop lagging {lag:.1f} s"
        if self.stopping():
            return None  # shutting down, bounded by the stop timeout
        if self.scheduler is None or not self.scheduler.running:
            return "scheduler not running"
        idle = health.stuck(self._view(db_ok=True), self.limits)
        if idle is not None:
            return f"pass stuck: no progress for {idle:.0f} s"
        return None

    # -- health -------------------------------------------------------------------------

    def _view(self, *, db_ok: bool) -> health.View:
        r = self.runner
        return health.View(
            now=time.monotonic(), started=self.started, db_ok=db_ok, stopping=self.stopping(),
            running_since=r.running_since if r else None,
            last_activity=self.metrics.last_activity,
            last=r.last if r else None, last_good=r.last_good if r else None,
            consecutive_aborts=r.consecutive_aborts if r else 0,
        )

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """``(healthy, document)`` for ``/healthz``."""
        db_ok = False
        if self.service is not None:
            try:
                db_ok = await asyncio.wait_for(self.service.store.ping(), PING_TIMEOUT)
            except TimeoutError:
                db_ok = False
        if self.leading:
            ok, doc = health.evaluate(self._view(db_ok=db_ok), self.limits)
            doc = {"role": "leader", **doc}
            assert self.leadership is not None
            doc["epoch"] = self.leadership.lease.epoch
        else:
            ok, doc = await standby.health(self.leadership, db_ok=db_ok,
                                           stopping=self.stopping(), ask_within=PING_TIMEOUT)
        doc["interval_seconds"] = self.interval
        if self.scheduler is not None:
            doc["next_pass_in_seconds"] = self.scheduler.next_run_in()
        return ok, doc
