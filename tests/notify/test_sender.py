"""The outbox sender against real receivers on loopback and a real SQLite store: every
signature and event id checked by the receiver, retries with backoff, sinks tracked apart,
Apprise through its ``json://`` scheme."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from copytrader.core import notices
from copytrader.core.records import AuditEvent
from copytrader.daemon.metrics import Metrics
from copytrader.errors import ConfigError
from copytrader.notify import sinks
from copytrader.notify.sender import Sender
from copytrader.settings import NotifySettings, Secret
from copytrader.store.engine import open_store
from copytrader.store.repo import SqlStore
from tests.daemon.conftest import wait_for
from tests.notify.receiver import Receiver

SECRET = "test-webhook-secret-0123456789"
EVENTS = notices.Filter(notices.parse("risk_stop,stop,write_failing"))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    s = await open_store(f"sqlite:///{tmp_path / 'ct.db'}", notify=EVENTS)
    yield s
    await s.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver(SECRET).start()
    yield r
    await r.stop()


def event(action: str, outcome: str = "noted", follower: str = "F") -> AuditEvent:
    return AuditEvent(
        ts=datetime.now(UTC), run_id="r1", action=action, master="M", follower=follower,
        outcome=outcome, detail="why",
    )  # fmt: skip


def settings(r: Receiver, *apprise: str) -> NotifySettings:
    return NotifySettings(
        tuple(Secret(u) for u in apprise), Secret(r.url), Secret(SECRET), EVENTS.actions
    )


async def pending(store: SqlStore) -> int:
    return (await store.outbox_backlog())[0]


async def test_only_notifying_events_enter_the_outbox_with_their_event(store: SqlStore) -> None:
    await store.add_events(
        [event("risk_stop"), event("drift"), event("stop", "pending"), event("risk_breach")]
    )
    due = await store.due_notifications(datetime.now(UTC), 10)
    assert [n.action for n in due] == ["risk_stop"]
    # a keyed write notifies once its outcome replaces the pending record
    pend = AuditEvent(ts=datetime.now(UTC), run_id="r", action="stop", outcome="pending", key="k")
    await store.add_pending([pend], None)
    assert await pending(store) == 1
    await store.add_events([AuditEvent(ts=pend.ts, run_id="r", action="stop", key="k")])
    assert await pending(store) == 2


async def test_every_notification_arrives_signed_once(store: SqlStore, receiver: Receiver) -> None:
    await store.add_events([event("risk_stop", follower=f"F{i}") for i in range(7)])
    sender = Sender(store, sinks.build(settings(receiver)))
    try:
        assert await sender.drain(since=datetime(2000, 1, 1, tzinfo=UTC), seconds=10)
    finally:
        await sender.close()
    ids = {n.id for n in await store.due_notifications(datetime(2100, 1, 1, tzinfo=UTC), 100)}
    assert ids == set()  # all settled
    assert receiver.problems == []
    assert len(receiver.delivered()) == 7 and len(receiver.got) == 7
    assert {r.body["follower"] for r in receiver.got} == {f"F{i}" for i in range(7)}


async def test_a_500_is_retried_with_backoff_until_2xx(store: SqlStore, receiver: Receiver) -> None:
    receiver.fail_first = 3
    await store.add_events([event("risk_stop")])
    metrics = Metrics()
    sender = Sender(store, sinks.build(settings(receiver)), observer=metrics)
    try:

        async def delivered() -> bool:
            await sender.once()
            return bool(receiver.delivered())

        await wait_for(delivered, "the fourth attempt to be taken", within=30, every=0.1)
    finally:
        await sender.close()
    got = receiver.got
    assert [r.status for r in got] == [500, 500, 500, 200]
    assert len({r.event_id for r in got}) == 1  # the same id on every retry
    gaps = [b.at - a.at for a, b in itertools.pairwise(got)]
    # equal jitter: at least half of 1, 2, 4 s after the 1st, 2nd, 3rd failure
    assert gaps[0] >= 0.5 and gaps[1] >= 1.0 and gaps[2] >= 2.0, gaps
    assert receiver.problems == []
    text = metrics.render().decode()
    assert 'copytrader_notification_deliveries_total{outcome="failed",sink="webhook"} 3.0' in text
    assert (
        'copytrader_notification_deliveries_total{outcome="delivered",sink="webhook"} 1.0' in text
    )


async def test_one_failing_sink_never_resends_to_the_other(
    store: SqlStore, receiver: Receiver
) -> None:
    receiver.answer = lambda _id: 503
    apprise_url = f"json://127.0.0.1:{receiver.port}/apprise"
    await store.add_events([event("risk_stop", follower="A"), event("stop", "ok", "B")])
    sender = Sender(store, sinks.build(settings(receiver, apprise_url)))
    try:
        for _ in range(3):
            await sender.once(since=None)
            await sender.outbox.record_deliveries([], {}, datetime.now(UTC))
            await _make_due(store)
        assert len(receiver.apprise) == 2  # each once, though the webhook keeps failing
        assert len(receiver.got) >= 4 and not receiver.delivered()
        receiver.answer = None
        await _make_due(store)
        assert await sender.drain(since=datetime(2000, 1, 1, tzinfo=UTC), seconds=10)
    finally:
        await sender.close()
    assert len(receiver.apprise) == 2 and len(receiver.delivered()) == 2
    titles = sorted(m["title"] for m in receiver.apprise)
    assert titles == ["copytrader: a clone was stopped by a risk guard", "copytrader: stop"]
    assert any("follower A" in m["message"] for m in receiver.apprise)
    assert receiver.problems == []


async def _make_due(store: SqlStore) -> None:
    """Skip the backoff wait: every delivery is due now (the test is about who is sent)."""
    from sqlalchemy import update

    from copytrader.store import tables

    async with store.transaction("due now") as conn:
        now = datetime.now(UTC)
        await conn.execute(update(tables.deliveries).values(next_at=now))
        await conn.execute(
            update(tables.notifications).where(tables.notifications.c.next_at.is_not(None))
            .values(next_at=now)
        )  # fmt: skip


def test_apprise_urls_it_does_not_know_are_a_config_error_naming_no_url() -> None:
    bad = NotifySettings(
        (Secret("json://ok.example/x"), Secret("nosuch://token-Zq81")),
    )
    with pytest.raises(ConfigError) as caught:
        sinks.build(bad)
    assert "COPYTRADER_NOTIFY_URLS: entry 2" in str(caught.value)
    assert "token-Zq81" not in str(caught.value)
