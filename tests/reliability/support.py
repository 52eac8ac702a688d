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

from copytrader.sim.faults import RequestRecord
from copytrader.sim.haas.state import SimState

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
