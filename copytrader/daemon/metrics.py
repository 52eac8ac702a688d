"""The daemon's Prometheus metrics, in a registry of their own.

A private :class:`~prometheus_client.CollectorRegistry` (not the process-global one) keeps
several daemons in one process (the demo, tests) from colliding. :class:`Metrics` is also the
platform client's ``RequestObserver``, so every request attempt and rate-limit wait is counted
where it happens.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from copytrader.reconcile.service import PassResult

CONTENT_TYPE = CONTENT_TYPE_LATEST
_PASS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)


class Metrics:
    """Counters, histograms and per-master gauges; :meth:`render` gives the exposition text."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.passes = Counter("copytrader_passes", "Reconcile passes by end state.",
                              ["state"], registry=r)
        self.pass_duration = Histogram("copytrader_pass_duration_seconds",
                                       "Wall time of a reconcile pass.",
                                       buckets=_PASS_BUCKETS, registry=r)
        self.actions = Counter("copytrader_actions", "Platform actions by kind and outcome.",
                               ["action", "outcome"], registry=r)
        self.requests = Counter("copytrader_platform_requests",
                                "Partner API request attempts by endpoint and status.",
                                ["endpoint", "status"], registry=r)
        self.request_seconds = Histogram("copytrader_platform_request_seconds",
                                         "Partner API request latency by endpoint.",
                                         ["endpoint"], registry=r)
        self.rate_limit_wait = Counter("copytrader_rate_limit_wait_seconds",
                                       "Seconds requests waited for the rate limit.", registry=r)
        self.retry_after = Counter("copytrader_platform_retry_after_seconds",
                                   "Seconds of Retry-After the platform asked for (each 429 "
                                   "holds every request back that long).", registry=r)
        self.followers = Gauge("copytrader_followers", "Followers listed in the master's policy.",
                               ["master"], registry=r)
        self.clones = Gauge("copytrader_clones", "Clones that exist on the platform.",
                            ["master"], registry=r)
        self.in_sync = Gauge("copytrader_in_sync", "Clones matching their desired state.",
                             ["master"], registry=r)
        self.drifted = Gauge("copytrader_drifted", "Clones found changed by someone else.",
                             ["master"], registry=r)
        self.master_roi = Gauge("copytrader_master_roi", "The master bot's ROI.",
                                ["master"], registry=r)
        self.last_pass = Gauge("copytrader_last_pass_timestamp_seconds",
                               "Unix time the last pass finished.", registry=r)
        self.leader = Gauge("copytrader_leader",
                            "1 while this process holds the writer lease, 0 as a standby.",
                            registry=r)
        self.consecutive_aborts = Gauge("copytrader_consecutive_aborted_passes",
                                        "Passes aborted in a row (the platform was unreachable).",
                                        registry=r)
        self.failed = Gauge("copytrader_failed", "Clones whose last write failed.",
                            ["master"], registry=r)
        self.risk_stopped = Gauge("copytrader_risk_stopped",
                                  "Clones a risk guard holds stopped (until resumed).",
                                  ["master"], registry=r)
        self.suspected_duplicates = Gauge("copytrader_suspected_duplicates",
                                          "Followers' bots that look like an unknown second "
                                          "clone.", ["master"], registry=r)
        self.adopt_candidates = Gauge("copytrader_adopt_candidates",
                                      "Followers held until a person adopts a bot.",
                                      ["master"], registry=r)
        self.notifications = Counter("copytrader_notification_deliveries",
                                     "Notification delivery attempts by sink kind and outcome "
                                     "(delivered, failed, gave_up).", ["sink", "outcome"],
                                     registry=r)
        self.notify_backlog = Gauge("copytrader_notifications_pending",
                                    "Notifications not yet delivered to every sink.", registry=r)
        self.notify_oldest = Gauge("copytrader_notifications_oldest_pending_seconds",
                                   "Age of the oldest notification not yet delivered.",
                                   registry=r)
        self.webhook_received = Counter("copytrader_webhook_events_received",
                                        "Requests to a webhook URL (any token).", registry=r)
        self.webhook_accepted = Counter("copytrader_webhook_events_accepted",
                                        "Valid webhook events accepted (202), by event name "
                                        "(other: a name copytrader does not know).",
                                        ["event"], registry=r)
        self.webhook_rejected = Counter("copytrader_webhook_events_rejected",
                                        "Webhook requests refused, by reason.", ["reason"],
                                        registry=r)
        self.webhook_handled = Counter("copytrader_webhook_events_handled",
                                       "Accepted webhook events once handled, by result.",
                                       ["result"], registry=r)
        self.webhook_queue = Gauge("copytrader_webhook_queue",
                                   "Accepted webhook events not handled yet.", registry=r)
        # Progress marker for the watchdog: any finished request shows the pass is moving.
        self.last_activity = time.monotonic()

    # -- RequestObserver ----------------------------------------------------------------

    def on_request(self, endpoint: str, status: str, seconds: float) -> None:
        """Count one request attempt and its latency."""
        self.requests.labels(endpoint=endpoint, status=status).inc()
        self.request_seconds.labels(endpoint=endpoint).observe(seconds)
        self.last_activity = time.monotonic()

    def on_rate_limit_wait(self, seconds: float) -> None:
        """Add a rate-limit wait to the running total."""
        self.rate_limit_wait.inc(max(seconds, 0.0))
        self.last_activity = time.monotonic()

    def on_send(self, endpoint: str, at: float, limiter: str) -> None:
        """A request leaving shows the pass is moving."""
        self.last_activity = time.monotonic()

    def on_rate_limited(self, endpoint: str, at: float, seconds: float, limiter: str) -> None:
        """Add a 429's Retry-After to the running total."""
        self.retry_after.inc(max(seconds, 0.0))

    # -- passes -------------------------------------------------------------------------

    def observe_pass(self, result: PassResult, seconds: float, consecutive_aborts: int) -> None:
        """Count a finished pass, its duration and its actions."""
        self.passes.labels(state=result.state).inc()
        self.pass_duration.observe(seconds)
        for outcome in result.outcomes:
            self.actions.labels(action=outcome.action.kind.value,
                                outcome=outcome.recorded).inc()
        self.last_pass.set(time.time())
        self.consecutive_aborts.set(consecutive_aborts)

    # -- notifications (the sender's Observer) ------------------------------------------

    def on_delivery(self, kind: str, outcome: str) -> None:
        """Count one delivery attempt to one sink."""
        self.notifications.labels(sink=kind, outcome=outcome).inc()

    def on_backlog(self, pending: int, oldest_seconds: float) -> None:
        """The outbox's unsettled notifications and the age of the oldest."""
        self.notify_backlog.set(pending)
        self.notify_oldest.set(oldest_seconds)

    def set_masters(self, status: Mapping[str, Any]) -> None:
        """Replace the per-master gauges with ``queries.status`` output."""
        counts = (
            (self.followers, "followers"),
            (self.clones, "clones"),
            (self.in_sync, "in_sync"),
            (self.drifted, "drifted"),
            (self.failed, "failed"),
            (self.risk_stopped, "risk_stopped"),
            (self.suspected_duplicates, "suspected_duplicates"),
            (self.adopt_candidates, "adopt_candidates"),
        )
        for gauge in (*(g for g, _ in counts), self.master_roi):
            gauge.clear()  # a master no longer reported must not keep its old value
        for m in status.get("masters", []):
            master = str(m["master"])
            for gauge, key in counts:
                gauge.labels(master=master).set(m.get(key) or 0)
            if m.get("master_roi") is not None:
                self.master_roi.labels(master=master).set(float(m["master_roi"]))

    def webhook_events(self) -> int:
        """Webhook events accepted so far (every event name)."""
        return int(sum(sample.value for metric in self.webhook_accepted.collect()
                       for sample in metric.samples if sample.name.endswith("_total")))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
