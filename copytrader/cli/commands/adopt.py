"""``copytrader adopt``: make an existing bot a follower's clone (an adopt candidate held by
the plan, or any look-alike bot of a follower with no clone yet).

Reads the platform and the policies (read requests only), checks the bot, and writes the
link and its ``adopt`` audit event to the database; nothing is written to the platform.
Exit 2 with one line naming the problem when the adoption cannot be made.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from copytrader.cli import EXIT_OK, EXIT_USAGE, context

if TYPE_CHECKING:
    from copytrader.reconcile.adoption import Adoption, Desk
    from copytrader.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "adopt",
        help="make an existing bot a follower's clone (adopt MASTER FOLLOWER BOT | --all MASTER)",
    )
    p.add_argument("master", metavar="MASTER", help="the master bot id (or a unique prefix)")
    p.add_argument("follower", metavar="FOLLOWER", nargs="?", help="the follower user id")
    p.add_argument("bot", metavar="BOT", nargs="?", help="the bot to adopt as its clone")
    p.add_argument(
        "--all",
        action="store_true",
        help="adopt for every held follower of MASTER with exactly one candidate",
    )
    p.add_argument("--json", action="store_true", help="print the JSON document")
    p.set_defaults(handler=adopt, needs_platform=True)


def _chosen(args: argparse.Namespace, desk: Desk) -> tuple[list[Adoption], list[str]]:
    """The adoptions the arguments ask for, and the followers left (several candidates).
    Raises Refused or ValueError naming the problem."""
    master = context.resolve("master of a valid policy", args.master, desk.masters)
    if args.all:
        return desk.every_single(master)
    follower = context.resolve(f"follower of {master}", args.follower, desk.followers(master))
    bot = context.resolve("bot on the platform", args.bot, desk.bots)
    return [desk.one(master, follower, bot)], []


async def adopt(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.cli import tables
    from copytrader.observe.audit import AuditTrail
    from copytrader.reconcile import adoption, wiring
    from copytrader.reconcile.service import new_run_id

    named = (args.follower, args.bot)
    if (args.all and named != (None, None)) or (not args.all and None in named):
        print("copytrader: adopt: give MASTER FOLLOWER BOT, or --all MASTER", file=sys.stderr)
        return EXIT_USAGE
    async with wiring.open_service(s) as svc:
        desk = adoption.desk(await svc.reconciler.read())
        try:
            chosen, several = _chosen(args, desk)
        except (adoption.Refused, ValueError) as exc:
            print(f"copytrader: adopt: {exc}", file=sys.stderr)
            return EXIT_USAGE
        run_id = new_run_id()
        trail = AuditTrail(svc.store, run_id)
        await adoption.record(svc.store, trail, run_id, chosen)
    for follower in several:
        print(
            f"copytrader: adopt: {follower} has several candidates; name one: "
            f"copytrader adopt {args.master} {follower} BOT",
            file=sys.stderr,
        )
    adopted = [a.to_json() for a in chosen]
    if args.json:
        context.print_json({"adopted": adopted, "several": several})
    else:
        tables.render_adopted(context.out(), adopted)
    return EXIT_OK
