"""A fresh database beside an existing install, and ``copytrader adopt``, as a user runs them:
real subprocesses against a real simulator, two SQLite files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from copytrader.sim.haas.server import SimServer
from tests.cli.test_commands import cli, sim, workdir
from tests.world import F1, F2, GRID, MASTERS

__all__ = ["sim", "workdir"]  # the fixtures this module uses

WRITES = ("/bots/clone", "/bots/create", "/bots/edit", "/bots/start", "/bots/stop", "/bots/delete")


def db(workdir: Path, name: str) -> dict[str, str]:
    return {"COPYTRADER_DATABASE_URL": f"sqlite:///{workdir / name}"}


async def run(sim: SimServer, workdir: Path, name: str, *args: str) -> tuple[int, Any, str]:
    code, out, err = await cli(sim, workdir, *args, env=db(workdir, name))
    return code, (json.loads(out) if "--json" in args and out.strip() else out), err


def bots(sim: SimServer) -> int:
    return len(sim.state.bot_ids())


async def test_a_fresh_database_beside_an_install_clones_nothing_until_adopted(
    sim: SimServer, workdir: Path
) -> None:
    code, first, _ = await run(sim, workdir, "a.db", "reconcile", "--json")
    assert code == 0
    followers = sum(1 for a in first["actions"] if a["action"] == "clone")
    assert followers > 0
    installed = bots(sim)

    # the same platform, a new empty database: every follower is an adopt candidate
    code, plan, _ = await run(sim, workdir, "b.db", "plan", "--json")
    assert code == 0
    assert plan["actions"] == []
    assert {h["reason"] for h in plan["held"]} == {"adopt_candidate"}
    assert len(plan["held"]) == followers
    assert all(h["bot"] for h in plan["held"])  # exactly one candidate each

    for _ in range(2):
        code, done, _ = await run(sim, workdir, "b.db", "reconcile", "--json")
        assert code == 1  # listed followers without their clone: not converged
        assert done["actions"] == []
        assert bots(sim) == installed  # no clone was made
    code, out, _ = await cli(
        sim, workdir, "audit", "--json", "--action", "adopt_candidate", env=db(workdir, "b.db")
    )
    assert len(out.splitlines()) == followers  # audited once, not once per pass
    code, status, _ = await run(sim, workdir, "b.db", "status", "--json")
    assert code == 0
    assert sum(m["adopt_candidates"] for m in status["masters"]) == followers
    assert all(m["clones"] == 0 for m in status["masters"])

    writes_before = len([r for r in sim.state.requests if r.path in WRITES])
    adopted = 0
    for master in MASTERS:
        code, doc, err = await run(sim, workdir, "b.db", "adopt", "--all", master[:8], "--json")
        assert code == 0, err
        assert all(a["master"] == master for a in doc["adopted"])
        assert doc["several"] == []
        adopted += len(doc["adopted"])
    assert adopted == followers
    assert len([r for r in sim.state.requests if r.path in WRITES]) == writes_before

    code, again, _ = await run(sim, workdir, "b.db", "reconcile", "--json")
    assert code == 0, again
    assert {a["action"] for a in again["actions"]} <= {"edit"}  # edits only: no clone
    assert again["held"] == []
    assert bots(sim) == installed
    code, status, _ = await run(sim, workdir, "b.db", "status", "--json")
    for m in status["masters"]:
        assert m["clones"] == m["followers"] == m["in_sync"]
        assert m["adopt_candidates"] == m["suspected_duplicates"] == 0
    code, out, _ = await cli(
        sim, workdir, "audit", "--json", "--action", "adopt", env=db(workdir, "b.db")
    )
    assert len(out.splitlines()) == followers


async def test_adopt_one_bot_by_prefixes_and_the_refusals(sim: SimServer, workdir: Path) -> None:
    code, _, _ = await run(sim, workdir, "a.db", "reconcile", "--json")
    assert code == 0
    theirs = {u: [b["botId"] for b in sim.state.bots_of(u) if b["botId"] != GRID] for u in (F1, F2)}
    grid_of = {
        u: next(b for b in ids if sim.state.bot(b)["type"] == sim.state.bot(GRID)["type"])
        for u, ids in theirs.items()
    }

    async def adopt(*args: str) -> tuple[int, str, str]:
        return await cli(sim, workdir, "adopt", *args, env=db(workdir, "b.db"))

    code, out, err = await adopt(GRID[:6], F1[:6], grid_of[F2][:10])
    assert code == 2 and out == ""
    assert err.strip() == f"copytrader adopt: bot {grid_of[F2]} belongs to user {F2}, not to {F1}"
    code, _, err = await adopt(GRID, F1, "")
    assert code == 2 and "no bot on the platform starts with ''" in err
    code, _, err = await adopt(GRID, F1, GRID)
    assert code == 2 and err.strip().endswith(
        f"bot {GRID} belongs to user {sim.state.bot(GRID)['userId']}, not to {F1}"
    )
    code, _, err = await adopt(GRID, "nobody")
    assert code == 2 and "give MASTER FOLLOWER BOT, or --all MASTER" in err
    code, _, err = await adopt("zzz", F1, grid_of[F1])
    assert code == 2 and "no master of a valid policy starts with 'zzz'" in err
    assert len(err.strip().splitlines()) == 1

    code, out, err = await adopt(GRID[:6], F1[:6], grid_of[F1][:10], "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "adopted": [{"master": GRID, "follower": F1, "bot": grid_of[F1]}],
        "several": [],
    }
    code, _, err = await adopt(GRID, F1, grid_of[F1])
    assert code == 2 and f"follower {F1} already has a clone of {GRID}: {grid_of[F1]}" in err
