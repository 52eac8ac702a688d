"""What a follower's page shows: its desired settings with the layer of each value, beside the
clone's value as copytrader last wrote or adopted it, and its clone's latest state.

The desired settings come from the core's own computation (:mod:`copytrader.core.desired`)
applied to the policy file as it is now and to the master as the last pass recorded it
(``master_states``): the same values a pass would plan, without asking the platform. The
clone's values are the link's ``applied`` settings (what copytrader last wrote, or found when
it adopted the bot); a change someone made since shows as drift in the audit trail.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from copytrader.core import desired, normalize
from copytrader.core.model import Bot
from copytrader.core.policy import FollowerPolicy, Policy
from copytrader.core.records import MasterState
from copytrader.errors import ConfigError
from copytrader.policy.loader import LoadedPolicies
from copytrader.store import clones, queries, states
from copytrader.store.repo import SqlStore

PolicyLoader = Callable[[], Awaitable[LoadedPolicies]]


def _find(loaded: LoadedPolicies, master: str, follower: str
          ) -> tuple[Policy | None, FollowerPolicy | None]:
    policy = next((p for p in loaded.policies if p.master == master), None)
    if policy is None:
        return None, None
    return policy, next((f for f in policy.followers if f.user == follower), None)


def settings_rows(policy: Policy, person: FollowerPolicy, state: MasterState,
                  applied: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """One row per setting of the master's script: key, desired value, layer, locked, the
    clone's value and whether the two agree; and the desired status."""
    master = Bot(bot_id=state.master, user_id="", type=state.bot_type, exchange_id="",
                 status=state.status, settings=state.settings)
    want = desired.compute(desired.base(policy, master, state.script), person)
    rows = []
    for spec in state.script.settings:
        if spec.key not in want.settings:
            continue
        value = want.settings[spec.key]
        has = spec.key in applied
        actual = normalize.value(spec, applied[spec.key]) if has else None
        rows.append({
            "key": spec.key,
            "name": spec.name,
            "value": value,
            "layer": want.layers[spec.key].value,
            "locked": spec.key in policy.locked,
            "actual": actual,
            "known": has,
            "same": has and actual == value,
        })
    return rows, want.status.value if want.status is not None else None


async def detail(store: SqlStore, load: PolicyLoader, master: str, follower: str
                 ) -> dict[str, Any] | None:
    """The follower page's document (None when the database knows nothing of this pair)."""
    found = await clones.clone(store, master, follower)
    if found is None:
        return None
    names = await states.names(store)
    snap = found.snapshot
    doc: dict[str, Any] = {
        "master": master,
        "name": names.get(master, ""),
        "follower": follower,
        "bot_id": found.bot_id,
        "applied_at": queries.iso(found.link_updated) if found.link_updated else None,
        "clone": None if snap is None else {
            **{k: snap[k] for k in ("run_id", "bot_id", "status", "roi")},
            "ts": queries.iso(snap["ts"]),
            **{k: bool(snap[k]) for k in ("in_sync", "drifted", "failed", "paused")},
        },
        "settings": [],
        "desired_status": None,
        "policy_file": None,
        "settings_note": None,
    }
    stops = (await queries.status(store, only=master)).get("risk_stops", [])
    doc["risk_stop"] = next((h for h in stops if h["follower"] == follower), None)
    state = await states.load(store, master)
    try:
        loaded = await load()
    except ConfigError as exc:
        doc["settings_note"] = f"the policy folder cannot be read here: {exc}"
        return doc
    policy, person = _find(loaded, master, follower)
    if policy is None:
        doc["settings_note"] = (
            "this master's policy file is invalid now (copytrader policy check says why); "
            "a running daemon keeps its last good version"
            if master in loaded.invalid_masters
            else "no policy file in the policy folder names this master now"
        )
        return doc
    doc["policy_file"] = policy.source.path
    if person is None:
        doc["settings_note"] = "the policy file no longer lists this follower"
    elif state is None:
        doc["settings_note"] = "no pass has recorded this master's settings yet"
    else:
        doc["settings"], doc["desired_status"] = settings_rows(policy, person, state,
                                                               found.applied)
        doc["master_seen_at"] = queries.iso(state.seen_at)
    return doc
