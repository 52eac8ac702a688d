"""Checks shared by the reliability tests: clones per follower, audit coverage, Retry-After.

Everything here reads real things: the simulator's request log and bots, and the audit rows
of the real store.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from copytrader.sim.faults import RequestRecord
from copytrader.sim.haas.state import SimState
from copytrader.store import tables
from copytrader.store.database import Reader

#: The five writes copytrader sends (``/bots/create`` is never used for clones).
WRITES = {
    "/bots/clone": "clone",
    "/bots/edit": "edit",
    "/bots/start": "start",
    "/bots/stop": "stop",
    "/bots/delete": "delete",
}
#: Faults that answer before the simulator's handler runs: the write did not happen.
NOT_DONE = frozenset({"429", "500", "page_fail", "reject", "malformed", "reset"})


def env_int(name: str, default: int) -> int:
    """An integer from the environment (the knobs for long runs), else ``default``."""
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def clones_of(state: SimState, user: str, masters: Iterable[str]) -> list[dict[str, Any]]:
    """The bots of ``user`` that are not masters (its clones)."""
    skip = set(masters)
    return [b for b in state.bots_of(user) if b["botId"] not in skip]


def assert_one_clone_each(
    state: SimState, followers: Iterable[str], masters: Iterable[str]
) -> None:
    """Exactly one clone per follower, whatever happened before."""
    ms = list(masters)
    counts = {u: len(clones_of(state, u, ms)) for u in followers}
    bad = {u: n for u, n in counts.items() if n != 1}
    assert not bad, f"followers without exactly one clone: {bad}"


def took_effect(r: RequestRecord) -> bool:
    """Whether a write request changed the platform (its handler ran and accepted it).

    ``lost`` drops the connection after the handler succeeded (no envelope is recorded);
    ``timeout``/``slow``/``missing_fields`` run the handler and answer (too late, or badly).
    """
    if r.fault in NOT_DONE:
        return False
    if r.fault == "lost":
        return r.status == 0 and r.success is None
    return r.success is True


def write_requests(state: SimState) -> list[RequestRecord]:
    """Every write request copytrader sent, in arrival order."""
    return [r for r in state.requests if r.path in WRITES]


def check_audit_covers_writes(
    requests: Sequence[RequestRecord],
    events: Sequence[Mapping[str, Any]],
) -> None:
    """Every platform write appears in the audit trail with an honest outcome.

    - every edit/start/stop/delete request for bot B has an audit event of that action for B;
    - an ``ok`` event never stands for a write that did not happen;
    - per follower, every clone that was made (the request took effect) is accounted for by
      exactly one ``clone`` event with outcome ok or one ``adopt`` event, and every clone
      request sent has a ``clone`` event for that follower.
    """
    missing = unaudited_writes(requests, events)
    assert not missing, f"{len(missing)} write(s) sent but not audited: {missing[:5]}"
    check_clones_accounted(requests, events)


def _by_action_bot(events: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], list[Any]]:
    by_key: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for e in events:
        if e["bot"]:
            by_key.setdefault((e["action"], e["bot"]), []).append(e)
    return by_key


def unaudited_writes(
    requests: Sequence[RequestRecord], events: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Edit/start/stop/delete requests with no audit event of that action for that bot."""
    by_key = _by_action_bot(events)
    missing = []
    for r in requests:
        action = WRITES[r.path]
        bot = str((r.body or {}).get("botId"))
        if r.body is None:
            continue  # cut off mid-request (kill -9): the platform could not even read it
        if action != "clone" and not by_key.get((action, bot)):
            done = "took effect" if took_effect(r) else "did not take effect"
            missing.append(f"{action} {bot} ({r.fault or 'no fault'}, {done})")
    return missing


def check_clones_accounted(
    requests: Sequence[RequestRecord],
    events: Sequence[Mapping[str, Any]],
    *,
    every_request: bool = True,
) -> None:
    """Clones made = ok clone + adopt events per follower; no ok event for a write not done.

    ``every_request``: also every clone request sent has a clone event (not after kill -9,
    where a request in flight at the kill is covered by its intent and a later adoption).
    """
    by_key = _by_action_bot(events)
    clone_events: Counter[str] = Counter()
    made_events: Counter[str] = Counter()
    for e in events:
        if e["action"] == "clone" and e["follower"]:
            clone_events[e["follower"]] += 1
            if e["outcome"] == "ok":
                made_events[e["follower"]] += 1
        elif e["action"] == "adopt" and e["follower"]:
            made_events[e["follower"]] += 1
    effective: Counter[tuple[str, str]] = Counter()
    clone_sent: Counter[str] = Counter()
    clone_made: Counter[str] = Counter()
    for r in requests:
        action = WRITES[r.path]
        body = r.body or {}
        if action == "clone":
            user = str(body.get("userId"))
            clone_sent[user] += 1
            if took_effect(r):
                clone_made[user] += 1
        elif took_effect(r):
            effective[(action, str(body.get("botId")))] += 1
    for (action, bot), evs in by_key.items():
        if action in ("edit", "start", "stop", "delete"):
            oks = [e for e in evs if e["outcome"] == "ok"]
            assert len(oks) <= effective[(action, bot)], (
                f"{len(oks)} ok {action} event(s) for {bot} but {effective[(action, bot)]} "
                "write(s) took effect"
            )
    for user, n in clone_sent.items():
        assert not every_request or clone_events[user] >= 1, (
            f"{n} clone request(s) for {user} and no clone event"
        )
    made = {u: n for u, n in clone_made.items() if n}
    differ = {
        u: (made.get(u, 0), made_events.get(u, 0))
        for u in set(made) | set(made_events)
        if made.get(u, 0) != made_events.get(u, 0)
    }
    assert not differ, f"follower: (clones made, ok clone + adopt events): {differ}"


async def write_events(store: Reader) -> list[dict[str, Any]]:
    """The audit rows of platform writes, with the key each write's requests were sent under
    (``event_key``, the ``X-Copytrader-Write`` header), oldest first."""
    a = tables.audit_events
    stmt = (
        select(a.c.event_key, a.c.ts, a.c.run_id, a.c.action, a.c.bot, a.c.outcome, a.c.error)
        .where(a.c.event_key.is_not(None))
        .order_by(a.c.ts, a.c.id)
    )
    async with store.transaction("write events") as conn:
        return [dict(row) for row in (await conn.execute(stmt)).mappings().all()]


def misrecorded_writes(
    requests: Sequence[RequestRecord], events: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Platform writes whose audit event does not say truthfully what became of them: one
    line each, naming the event and every request of the write (empty: all truthful).

    A write is one audit event (``event_key``) and every request sent under its key: a
    resend after a lost answer is the same write, counted once however often the platform
    carried it out. Each write request names an event of its action; a write any request of
    which took effect is audited ``ok`` or ``unknown`` (never ``failed``, never left
    ``pending``); an ``ok`` write took effect.
    """
    by_key = {e["event_key"]: e for e in events}
    sent: dict[str | None, list[RequestRecord]] = {}
    for r in requests:
        sent.setdefault(r.write_id, []).append(r)
    t0 = min((r.ts for r in requests), default=0.0)
    problems = [f"request of no write: {_request(r, t0)}" for r in sent.pop(None, [])]
    for key, rs in sent.items():
        event = by_key.get(key)
        done = any(took_effect(r) for r in rs)
        if event is None or event["action"] != WRITES[rs[0].path]:
            why = "no audit event of its action"
        elif done and event["outcome"] not in ("ok", "unknown"):
            why = f"took effect, audited {event['outcome']}"
        elif event["outcome"] == "ok" and not done:
            why = "audited ok, took no effect"
        else:
            continue
        problems.append(
            f"{WRITES[rs[0].path]} {key}: {why}; event {_event(event)}; requests: "
            + "; ".join(_request(r, t0) for r in rs)
        )
    problems += [
        f"{e['action']} {e['event_key']}: audited ok, never sent; event {_event(e)}"
        for e in events
        if e["outcome"] == "ok" and e["event_key"] not in sent
    ]
    return problems


def _request(r: RequestRecord, t0: float) -> str:
    body = repr({k: v for k, v in (r.body or {}).items() if k != "userId"})
    return (
        f"+{r.ts - t0:.3f}s {r.path} HTTP {r.status} success={r.success} fault={r.fault} "
        f"writer={r.writer} {body[:160]}"
    )


def _event(e: Mapping[str, Any] | None) -> str:
    if e is None:
        return "none"
    return f"{e['action']} {e['outcome']} (run {e['run_id']}, bot {e['bot']}, error {e['error']!r})"


def subprocess_env(**values: str) -> dict[str, str]:
    """A clean environment for a copytrader subprocess: no inherited COPYTRADER_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYTRADER_")}
    env.update({"COPYTRADER_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1"})
    env.update(values)
    return env


CLI = [sys.executable, "-m", "copytrader.cli.main"]


async def run_cli(
    *args: str, env: Mapping[str, str], limit: float = 60.0, cwd: Path | None = None
) -> tuple[int, str, str]:
    """Run ``copytrader ARGS`` as a real subprocess (the event loop keeps serving the
    simulator meanwhile); its exit code, stdout and stderr."""
    import asyncio

    proc = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        env=dict(env),
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
