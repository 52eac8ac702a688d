"""Checks of the BotPrimeX reliability tests: writes read from the simulator's request log
(the bot id in the path, the follower in the account of the key), against the audit trail."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from copytrader.sim.botprimex.state import BpxState, template
from copytrader.sim.faults import RequestRecord
from tests.reliability.support import took_effect

#: (method, route template) -> the audit action of that write.
WRITES = {
    ("POST", "/bots"): "clone",
    ("PATCH", "/bots/{id}"): "edit",
    ("POST", "/bots/{id}/start"): "start",
    ("POST", "/bots/{id}/stop"): "stop",
    ("DELETE", "/bots/{id}"): "delete",
}


def action_of(r: RequestRecord) -> str | None:
    return WRITES.get((r.method, template(r.path)))


def write_requests(state: BpxState) -> list[RequestRecord]:
    """Every bot write copytrader sent, in arrival order."""
    return [r for r in state.requests if action_of(r) is not None]


def bot_of(r: RequestRecord) -> str:
    return r.path.strip("/").split("/")[1]


def unaudited_writes(
    requests: Sequence[RequestRecord], events: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Edit/start/stop/delete requests with no audit event of that action for that bot."""
    seen = {(e["action"], e["bot"]) for e in events if e["bot"]}
    missing = []
    for r in requests:
        action = action_of(r)
        if action is None or action == "clone":
            continue
        if (action, bot_of(r)) not in seen:
            done = "took effect" if took_effect(r) else "did not take effect"
            missing.append(f"{action} {bot_of(r)} ({r.fault or 'no fault'}, {done})")
    return missing


def check_clones_accounted(
    requests: Sequence[RequestRecord], events: Sequence[Mapping[str, Any]]
) -> None:
    """Per follower account: the clones made (creates that took effect) are as many as its
    ``clone ok`` and ``adopt`` events; an ``ok`` start/stop/edit/delete event never stands
    for a write that did not happen (already_running/already_stopped count as done)."""
    made: Counter[str] = Counter()
    effective: Counter[tuple[str, str]] = Counter()
    for r in requests:
        action = action_of(r)
        if action == "clone" and took_effect(r) and r.account:
            made[r.account] += 1
        elif action in ("start", "stop") and (took_effect(r) or r.status == 400):
            effective[(action, bot_of(r))] += 1  # a refusal that names the state is done
        elif action is not None and took_effect(r):
            effective[(action, bot_of(r))] += 1
    recorded: Counter[str] = Counter()
    oks: Counter[tuple[str, str]] = Counter()
    for e in events:
        if e["outcome"] != "ok" or not e["follower"]:
            continue
        if e["action"] in ("clone", "adopt"):
            recorded[e["follower"]] += 1
        elif e["action"] in ("edit", "start", "stop", "delete") and e["bot"]:
            oks[(e["action"], e["bot"])] += 1
    for key, n in oks.items():
        assert n <= effective[key], f"{n} ok {key[0]} event(s) for {key[1]}, {effective[key]} done"
    differ = {
        a: (made[a], recorded[a]) for a in set(made) | set(recorded) if made[a] != recorded[a]
    }
    assert not differ, f"account: (clones made, ok clone + adopt events): {differ}"
