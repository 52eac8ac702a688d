"""``copytrader resume MASTER FOLLOWER``: a person lets a clone that a risk guard stopped run
again.

Database only: the hold is lifted and audited ``risk_resume`` in one transaction; the next
pass starts the clone (when its desired status is running) and the risk rules apply again
from that start. Exit 2 with one line when that follower is not held, or an id does not
match (unique prefixes are accepted).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from copytrader.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, context, parsers

if TYPE_CHECKING:
    from copytrader.settings import Settings


_RESUME = """\
Lets a clone that a risk guard stopped run again: the hold is lifted and audited
'risk_resume' in one transaction (database only, no platform request); the next pass starts
the clone when its desired status is running, and the risk rules apply again from that
start (a clone still below min_roi_pct is stopped again). Changing that follower's risk
values in its policy lifts the hold too. MASTER and FOLLOWER take unique prefixes."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = parsers.command(
        sub,
        "resume",
        summary="let a clone stopped by a risk guard run again (resume MASTER FOLLOWER)",
        description=_RESUME,
        env=(*parsers.READ_DATABASE, *parsers.NOTIFY),
        exits={
            EXIT_OK: "the hold is lifted",
            EXIT_FAILED: "the database could not be read or written",
            EXIT_USAGE: "that follower is not held, or an id matches no id or several",
        },
        examples=["copytrader status   # below the table: the clones held, and why",
                  "copytrader resume 6dafad4e f873b314"],
    )
    p.add_argument("master", metavar="MASTER", help="the master bot id (or a unique prefix)")
    p.add_argument("follower", metavar="FOLLOWER", help="the follower user (or a unique prefix)")
    p.add_argument("--json", action="store_true", help="print the JSON document instead")
    p.set_defaults(handler=resume, needs_platform=False)


async def resume(args: argparse.Namespace, s: Settings) -> int:
    from datetime import UTC, datetime
    from types import MappingProxyType

    from copytrader.core.records import AuditEvent
    from copytrader.observe.audit import AuditTrail
    from copytrader.reconcile import wiring
    from copytrader.reconcile.service import new_run_id

    async with wiring.open_store_only(s) as store:
        links = await store.links()
        states = {(r.master, r.follower): r for r in await store.risk_states()}
        pairs = {(lk.master, lk.follower): lk.bot_id for lk in links} | dict.fromkeys(states)
        try:
            master = context.resolve("master", args.master, {m for m, _ in pairs})
            follower = context.resolve(
                f"follower of {master}", args.follower, {f for m, f in pairs if m == master}
            )
        except ValueError as exc:
            print(f"copytrader resume: {exc}", file=sys.stderr)
            return EXIT_USAGE
        state = states.get((master, follower))
        hold = state.hold if state is not None and state.stopped else None
        if hold is None:
            print(
                f"copytrader resume: follower {follower} of master {master} is not held by a "
                "risk guard (nothing to resume)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        run_id = new_run_id()
        trail = AuditTrail(store, run_id)
        event = AuditEvent(
            ts=datetime.now(UTC),
            run_id=run_id,
            action="risk_resume",
            master=master,
            follower=follower,
            bot=pairs.get((master, follower)),
            changes=MappingProxyType({hold.rule: (hold.value, hold.threshold)}),
            outcome="ok",
            detail=f"resumed by a person (copytrader resume) after: {hold.describe()}; the "
            "next pass starts the clone and the risk rules apply again from that start",
        )
        # Lifted only while it is still the hold read above (the one the event describes):
        # a pass that replaced it by a new breach meanwhile keeps the new one.
        if await store.resume_risk(master, follower, trail.mask(event), hold) is None:
            print(
                f"copytrader resume: follower {follower} of master {master} is no longer "
                f"held for {hold.describe()} (resumed, or replaced by a new breach, "
                "meanwhile; see copytrader status); nothing was changed",
                file=sys.stderr,
            )
            return EXIT_USAGE
        trail.log(event)
    doc = {"master": master, "follower": follower, "rule": hold.rule, "resumed": True}
    if args.json:
        context.print_json(doc)
    else:
        print(
            f"resumed: {follower}'s clone of {master} is no longer held "
            f"({hold.describe()}); the next pass starts it"
        )
    return EXIT_OK
