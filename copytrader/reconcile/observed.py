"""What a pass saw, as records: snapshots of every master and clone, each policy master's
settings and script, and each follower's difference from its desired state
(``copytrader drift``). Pure functions of a pass's reading, plan and results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from copytrader.core import diff as diff_mod
from copytrader.core.actions import Carrier, Kind
from copytrader.core.model import Bot, Catalogue
from copytrader.core.plan import Plan, World
from copytrader.core.policy import Policy
from copytrader.core.records import BotSnapshot, Link, MasterState
from copytrader.reconcile.executor import FollowerResult


def drift(plan: Plan, world: World) -> list[dict[str, Any]]:
    """Every listed follower whose clone differs from its desired state (settings, and
    ``status`` when it should run or stop), or that has no clone: the contract's DRIFT rows."""
    found: list[dict[str, Any]] = []
    for fp in plan.followers:
        if fp.desired is None:
            continue
        clone = fp.clone
        master = world.bots.get(fp.master)
        script = world.catalogue.script(master.type) if master else None
        if script is None:
            continue
        if clone is None:
            changes = {k: [None, v] for k, v in sorted(fp.desired.settings.items())}
        else:
            changes = {
                k: [c.before, c.after]
                for k, c in diff_mod.against(fp.desired, script, clone.settings).items()
            }
            want = fp.desired.status
            if want is not None and clone.status is not want:
                changes["status"] = [clone.status.value, want.value]
        if changes:
            found.append(
                {
                    "master": fp.master,
                    "follower": fp.follower,
                    "bot": clone.bot_id if clone else None,
                    "changes": changes,
                }
            )
    return found


def snapshots(
    run_id: str,
    policies: Sequence[Policy],
    bots: Mapping[str, Bot],
    results: Sequence[FollowerResult],
) -> list[BotSnapshot]:
    """One row per master of a valid policy and one per listed follower, after the pass's
    actions: a clone is in sync when it exists, nothing failed or was only flagged, and its
    status is the desired one."""
    now = datetime.now(UTC)
    out: list[BotSnapshot] = []
    for pol in policies:
        master = bots.get(pol.master)
        out.append(
            BotSnapshot(
                run_id=run_id,
                ts=now,
                master=pol.master,
                follower=None,
                bot_id=pol.master if master else None,
                status=master.status if master else None,
                roi=master.roi if master else None,
                profit=master.profit if master else None,
                followers=len(pol.followers),
            )
        )
    for res in results:
        fp = res.plan
        if fp.desired is None:
            continue  # a removed follower is no longer counted
        clone = bots.get(res.bot) if res.bot else None
        failed = res.failed
        want = fp.desired.status
        in_sync = (
            res.bot is not None
            and not failed
            and not fp.flagged
            and (want is None or res.status is want)
        )
        out.append(
            BotSnapshot(
                run_id=run_id,
                ts=now,
                master=fp.master,
                follower=fp.follower,
                bot_id=res.bot,
                status=res.status if res.bot else None,
                roi=clone.roi if clone else (0.0 if res.bot else None),
                profit=clone.profit if clone else (0.0 if res.bot else None),
                in_sync=in_sync,
                drifted=fp.drifted,
                failed=failed,
                paused=fp.desired.paused,
                carried=res.bot is not None and _carried(res, clone),
            )
        )
    return out


def _carried(res: FollowerResult, clone: Bot | None) -> bool:
    """Whether the follower's clone after the pass is platform-carried: as made this pass
    (its clone action's propagation), else as the sweep showed it (it follows the master)."""
    for outcome in reversed(res.outcomes):
        if outcome.ok and outcome.action.kind is Kind.CLONE:
            return outcome.action.propagation is Carrier.PLATFORM
    return clone is not None and clone.master_bot_id == res.plan.master


def unread(
    run_id: str,
    policies: Sequence[Policy],
    links: Sequence[Link],
    accounts: Mapping[str, str],
) -> list[BotSnapshot]:
    """One row per listed follower whose account could not be read this pass: its clone as
    the link knows it, status unknown, failed (so ``status`` counts it as failed, not in
    sync and not as a clone seen on the platform)."""
    if not accounts:
        return []
    now = datetime.now(UTC)
    known = {(lk.master, lk.follower): lk.bot_id for lk in links}
    return [
        BotSnapshot(
            run_id=run_id,
            ts=now,
            master=pol.master,
            follower=f.user,
            bot_id=known.get((pol.master, f.user)),
            status=None,
            roi=None,
            profit=None,
            in_sync=False,
            failed=True,
            paused=f.paused,
        )
        for pol in policies
        for f in pol.followers
        if f.user in accounts
    ]


def master_states(
    policies: Sequence[Policy], masters: Mapping[str, Bot], catalogue: Catalogue
) -> list[MasterState]:
    """Each valid policy's master bot as this pass read it, with its script (masters missing
    from the platform or of an unknown type are left out)."""
    now = datetime.now(UTC)
    out: list[MasterState] = []
    for pol in policies:
        bot = masters.get(pol.master)
        script = catalogue.script(bot.type) if bot is not None else None
        if bot is None or script is None:
            continue
        out.append(MasterState(pol.master, bot.type, bot.status, bot.settings, script, now))
    return out
