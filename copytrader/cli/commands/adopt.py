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

from copytrader.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, context, parsers

if TYPE_CHECKING:
    from copytrader.reconcile.adoption import Adoption, Desk
    from copytrader.settings import Settings


_ADOPT = """\
Makes an existing bot a follower's clone: an adopt candidate the plan holds (a follower with
no clone yet that already has a bot with the master's type, exchange and market: a lost
database, an older install), or any such look-alike bot of a follower with no clone. Reads
the platform and the policies (read requests only), checks the bot (the follower's, of the
master's type, exchange and market, nobody's clone), and records the link with an 'adopt'
audit event; nothing is written to the platform. The next pass converges the adopted clone
like any other (edits, start or stop; never a new clone). Every id accepts a unique prefix."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = parsers.command(
        sub,
        "adopt",
        summary="make an existing bot a follower's clone (adopt MASTER FOLLOWER BOT | --all "
        "MASTER)",
        description=_ADOPT,
        env=(*parsers.READ_PLATFORM, *parsers.NOTIFY, *parsers.TABLES),
        exits={
            EXIT_OK: "adopted (with --all: each follower with exactly one candidate; the "
            "others are named on stderr)",
            EXIT_FAILED: "the platform or the database could not be read",
            EXIT_USAGE: "the bot cannot be adopted, or an id matches nothing or several "
            "(one line naming why)",
        },
        examples=[
            "copytrader adopt 6dafad4e f873b314 1a2b3c4d",
            "copytrader adopt --all 6dafad4e",
        ],
    )
    p.add_argument("master", metavar="MASTER", help="the master bot id (or a unique prefix)")
    p.add_argument(
        "follower", metavar="FOLLOWER", nargs="?", help="the follower user id (or a prefix)"
    )
    p.add_argument(
        "bot", metavar="BOT", nargs="?", help="the bot to adopt as its clone (or a prefix)"
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="adopt for every held follower of MASTER with exactly one candidate",
    )
    parsers.table_options(p)
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
        print("copytrader adopt: give MASTER FOLLOWER BOT, or --all MASTER", file=sys.stderr)
        return EXIT_USAGE
    async with wiring.open_service(s) as svc:
        desk = adoption.desk(await svc.reconciler.read())
        try:
            chosen, several = _chosen(args, desk)
        except (adoption.Refused, ValueError) as exc:
            print(f"copytrader adopt: {exc}", file=sys.stderr)
            return EXIT_USAGE
        run_id = new_run_id()
        trail = AuditTrail(svc.store, run_id)
        lost = await adoption.record(svc.store, trail, run_id, chosen)
    for _, why in lost:
        print(f"copytrader adopt: {why}", file=sys.stderr)
    chosen = [a for a in chosen if all(a is not gone for gone, _ in lost)]
    if lost and not args.all:
        return EXIT_USAGE
    for follower in several:
        print(
            f"copytrader adopt: {follower} has several candidates; name one: "
            f"copytrader adopt {args.master} {follower} BOT",
            file=sys.stderr,
        )
    adopted = [a.to_json() for a in chosen]
    if args.json:
        context.print_json({"adopted": adopted, "several": several})
    else:
        tables.render_adopted(context.out(args.wide), adopted, wide=args.wide)
    return EXIT_OK
