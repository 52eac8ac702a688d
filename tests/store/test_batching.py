"""Batched bookkeeping of platform writes (the pass's write-ahead ledger) against a real
simulator and real SQLite and PostgreSQL databases.

A probe stands between the executor and the platform client: just before each write is handed
to the client it asks the database, over a connection of its own (so it sees committed rows
only), what is on record about that write. The lease is the real writer lease.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pytest
from sqlalchemy import text

from copytrader.core.actions import Action, FollowerPlan, Kind
from copytrader.core.diff import Change
from copytrader.core.policy import PolicySource
from copytrader.core.records import Link
from copytrader.errors import StoreError
from copytrader.observe.audit import AuditTrail
from copytrader.platform.haas.client import PlatformClient
from copytrader.reconcile.executor import Executor
from copytrader.settings import Secret
from copytrader.sim.haas.server import SimServer
from copytrader.store import engine
from copytrader.store.lease import WriterLease, lock_path
from copytrader.store.repo import SqlStore
from tests.world import GRID, demo_sim

KEY = "batching-key-3b9e"
FOLLOWERS = 24
SOURCE = PolicySource("policies/grid.yaml", "0" * 64)


@dataclass
class Probe:
    """The platform client, with a look at the committed record before each write leaves."""

    inner: PlatformClient
    reader: SqlStore
    before_write: Callable[[], Awaitable[None]] | None = None
    seen: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def requests_sent(self) -> int:
        return self.inner.requests_sent

    async def _look(self, action: str, bot: str) -> None:
        async with self.reader.transaction("probe") as conn:
            rows = await conn.execute(
                text("SELECT outcome FROM audit_events WHERE action = :a AND bot = :b"),
                {"a": action, "b": bot},
            )
            self.seen.append((bot, [r[0] for r in rows]))
        if self.before_write is not None:
            hook, self.before_write = self.before_write, None
            await hook()

    async def edit_bot(self, user_id: str, bot_id: str, settings: Any) -> None:
        await self._look("edit", bot_id)
        await self.inner.edit_bot(user_id, bot_id, settings)

    async def stop_bot(self, bot_id: str) -> None:
        await self._look("stop", bot_id)
        await self.inner.stop_bot(bot_id)


@dataclass
class World:
    sim: SimServer
    store: SqlStore
    reader: SqlStore
    lease: WriterLease
    client: PlatformClient
    plans: tuple[FollowerPlan, ...]


@pytest.fixture
async def world(store: SqlStore, database_url: str) -> AsyncIterator[World]:
    """FOLLOWERS running clones of the grid master, linked; one edit planned for each."""
    async with demo_sim(KEY, seed=11) as sim:
        state = sim.state
        plans = []
        for i in range(FOLLOWERS):
            user = state.create_user("BITMEXSPOT")
            made = state.clone(user, GRID, False, {"stopValue": 3000 + i})
            state.start(made["botId"])
            settings = dict(state.bot(made["botId"])["settings"])
            await store.save_link(Link(GRID, user, made["botId"], applied=settings))
            change = {"stopValue": Change(3000 + i, 5000 + i)}
            edit = Action(
                Kind.EDIT,
                GRID,
                user,
                made["botId"],
                MappingProxyType(change),
                MappingProxyType({"stopValue": 5000 + i}),
                reason="settings differ",
            )
            plans.append(FollowerPlan(GRID, user, (edit,), None, None, SOURCE))
        lock = lock_path(database_url) if store.dialect == "sqlite" else None
        lease = WriterLease(store, 15, lock_file=lock)
        assert await lease.try_acquire()
        reader = await engine.open_store(database_url)
        async with PlatformClient(
            sim.url, Secret(KEY), rate_limit_per_minute=None, concurrency=8
        ) as client:
            client.guard_writes(lambda: lease.check().stamp())
            try:
                yield World(sim, store, reader, lease, client, tuple(plans))
            finally:
                await lease.close()
                await reader.close()


def executor(w: World, probe: Probe) -> Executor:
    return Executor(probe, w.store, AuditTrail(w.store, "r1"), "r1", concurrency=8, lease=w.lease)


async def outcomes_by_bot(store: SqlStore) -> dict[str, list[str]]:
    async with store.transaction("read") as conn:
        rows = await conn.execute(text("SELECT bot, outcome FROM audit_events ORDER BY id"))
        found: dict[str, list[str]] = {}
        for bot, outcome in rows:
            found.setdefault(bot, []).append(outcome)
    return found


def edited_bots(sim: SimServer) -> list[str]:
    return [str(r.body["botId"]) for r in sim.state.writes("/bots/edit") if r.body]


async def test_pending_events_are_committed_before_their_writes_leave_in_few_transactions(
    world: World,
) -> None:
    probe = Probe(world.client, world.reader)
    ex = executor(world, probe)
    results = await ex.run(world.plans)
    assert all(o.ok for r in results for o in r.outcomes)
    # Every write, just before it left, was already on record (committed) as pending.
    assert len(probe.seen) == FOLLOWERS
    assert all(outcomes == ["pending"] for _, outcomes in probe.seen), probe.seen
    # ... and its outcome replaced that record, with the link in the same transaction.
    by_bot = await outcomes_by_bot(world.store)
    assert all(by_bot[p.actions[0].bot or ""] == ["ok"] for p in world.plans)
    links = {lk.follower: lk for lk in await world.store.links()}
    for i, p in enumerate(world.plans):
        assert links[p.follower].applied["stopValue"] == 5000 + i
    if world.store.dialect == "postgresql":  # the very transaction: xmin of both rows
        async with world.reader.transaction("xmin") as conn:
            rows = await conn.execute(
                text(
                    "SELECT l.xmin::text = e.xmin::text FROM links l "
                    "JOIN audit_events e ON e.bot = l.bot_id AND e.action = 'edit'"
                )
            )
            assert [r[0] for r in rows] == [True] * FOLLOWERS
    # One transaction per write would be 2 x FOLLOWERS (pending, then outcome): the
    # followers in flight share theirs.
    assert ex.ledger.transactions < FOLLOWERS
    assert sorted(edited_bots(world.sim)) == sorted(p.actions[0].bot or "" for p in world.plans)


async def test_an_outcome_is_never_recorded_without_its_link(world: World) -> None:
    """The database refuses one follower's link change: that outcome is not recorded
    either (it stays pending), and no ok event stands without its link anywhere."""
    poisoned = world.plans[FOLLOWERS // 2].follower
    async with world.store.transaction("poison") as conn:
        if world.store.dialect == "sqlite":
            for when in ("INSERT", "UPDATE"):
                await conn.execute(
                    text(
                        f"CREATE TRIGGER refuse_{when.lower()} BEFORE {when} ON links "
                        f"WHEN NEW.follower = '{poisoned}' "
                        "BEGIN SELECT RAISE(ABORT, 'link refused'); END"
                    )
                )
        else:
            await conn.execute(
                text(
                    "CREATE FUNCTION refuse_link() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    "BEGIN IF NEW.follower = '" + poisoned + "' THEN "
                    "RAISE EXCEPTION 'link refused'; END IF; RETURN NEW; END $$"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER refuse_link BEFORE INSERT OR UPDATE ON links "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_link()"
                )
            )
    probe = Probe(world.client, world.reader)
    try:
        with pytest.raises(StoreError, match="link refused"):
            await executor(world, probe).run(world.plans)
    finally:
        async with world.store.transaction("unpoison") as conn:
            if world.store.dialect == "sqlite":
                await conn.execute(text("DROP TRIGGER refuse_insert"))
                await conn.execute(text("DROP TRIGGER refuse_update"))
            else:
                await conn.execute(text("DROP TRIGGER refuse_link ON links"))
                await conn.execute(text("DROP FUNCTION refuse_link()"))
    by_bot = await outcomes_by_bot(world.store)
    links = {lk.follower: lk for lk in await world.store.links()}
    sent = set(edited_bots(world.sim))
    recorded_ok = 0
    for i, p in enumerate(world.plans):
        bot = p.actions[0].bot or ""
        events = by_bot.get(bot, [])
        new_link = links[p.follower].applied["stopValue"] == 5000 + i
        assert (events == ["ok"]) == new_link, (p.follower, events, new_link)
        recorded_ok += new_link
        # A write that left is on record (pending or ok); one not on record never left.
        assert (bot in sent) == bool(events), (p.follower, events)
    poisoned_bot = next(p.actions[0].bot for p in world.plans if p.follower == poisoned)
    assert by_bot[poisoned_bot or ""] == ["pending"]
    assert recorded_ok < FOLLOWERS
    assert all(outcomes == ["pending"] for _, outcomes in probe.seen)


async def test_a_lease_lost_between_batches_sends_nothing_more(world: World) -> None:
    """Another process takes the lease over (its row: new holder, epoch + 1) while the first
    batch's writes are on their way: they were fenced under the old lease and leave; no
    later batch is recorded, and nothing more is sent."""

    recorded_before: set[str] = set()

    async def take_over() -> None:
        # The update first: from then on no batch can commit under the old lease (SQLite: this
        # transaction holds the write lock; PostgreSQL: the lease row's lock), so the select
        # sees exactly the writes fenced before the takeover.
        async with world.reader.transaction("take over") as conn:
            await conn.execute(
                text("UPDATE writer_lease SET holder = 'other:1:x', epoch = epoch + 1")
            )
            rows = await conn.execute(
                text("SELECT bot FROM audit_events WHERE action = 'edit'")
            )
            recorded_before.update(r[0] for r in rows)

    probe = Probe(world.client, world.reader, before_write=take_over)
    ex = executor(world, probe)
    results = await ex.run(world.plans)
    assert ex.fenced is not None and "took the writer lease over" in ex.fenced
    sent = edited_bots(world.sim)
    by_bot = await outcomes_by_bot(world.store)
    # Only writes recorded before the takeover were sent (how many batches that is depends on
    # how far the ledger got while the first write was being handed over); their outcomes are
    # recorded; no other follower has a pending event or a request.
    assert 1 <= len(sent) < FOLLOWERS
    assert set(sent) <= recorded_before
    assert sorted(sent) == sorted(b for b, outcomes in by_bot.items() if "ok" in outcomes)
    done = [r for r in results if r.outcomes and r.outcomes[0].ok]
    assert len(done) == len(sent)
    for r in results:
        if r in done:
            continue
        # Refused (recorded as failed, never pending) or never attempted once fenced.
        bot = r.plan.actions[0].bot or ""
        if r.outcomes:
            assert "writer lease" in (r.outcomes[0].error or "")
            assert by_bot[bot] == ["failed"]
        else:
            assert bot not in by_bot
    assert all(outcomes == ["pending"] for _, outcomes in probe.seen)
    assert ex.ledger.fenced is not None
