"""Bring a world to the converged state copytrader's first pass would leave, without HTTP.

For the largest sizes the first pass (a clone, a start and two link writes per follower) is
not what is being measured, and 200,000 requests would take the run's whole budget. This
plans with copytrader's own core (so the clones get exactly copytrader's payload), applies
the clone and start actions straight to the simulator's state, and writes the links in one
transaction. The next copytrader pass over the result must then send no write at all: the
benchmark checks that.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from benchmarks import world as world_mod
from copytrader.core import plan as plan_mod
from copytrader.core.model import Bot, Catalogue
from copytrader.core.plan import Kind
from copytrader.platform.haas import parse
from copytrader.sim.haas import catalogue as sim_catalogue
from copytrader.store import tables
from copytrader.store.repo import SqlStore


def catalogue() -> Catalogue:
    """The simulator's script catalogue as the core sees it."""
    return parse.catalogue("bench", sim_catalogue.scripts())


def bots(w: world_mod.World) -> dict[str, Bot]:
    """Every bot of the simulator's state as the core sees it (what a sweep returns)."""
    state = w.state
    return {b["botId"]: parse.bot("bench", b) for b in state.bots_json(state.bot_ids())}


def apply_first_pass(w: world_mod.World) -> list[dict[str, Any]]:
    """Plan the first pass with copytrader's core and apply its clones and starts directly to
    the state; returns the link rows the executor would have stored."""
    policies = [world_mod.policy(g) for g in w.groups]
    plan = plan_mod.build(policies, plan_mod.World(bots(w), catalogue()))
    state = w.state
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for fp in plan.followers:
        bot_id: str | None = None
        for action in fp.actions:
            if action.kind is Kind.CLONE:
                made = state.clone(action.follower, action.master, False, dict(action.payload))
                bot_id = made["botId"]
                rows.append({
                    "master": action.master, "follower": action.follower, "bot_id": bot_id,
                    "intent_at": None, "applied": made["settings"], "removed": False,
                    "updated_at": now,
                })
            elif action.kind is Kind.START:
                assert bot_id is not None
                state.start(bot_id)
            else:
                raise AssertionError(f"a first pass should only clone and start: {action.kind}")
    return rows


async def store_links(store: SqlStore, rows: list[dict[str, Any]]) -> None:
    """Write the link rows in one transaction (the executor writes them one by one)."""
    async with store.transaction("bench seed links") as conn:
        for start in range(0, len(rows), 10_000):
            await conn.execute(insert(tables.links), rows[start : start + 10_000])
