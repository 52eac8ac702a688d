"""``copytrader db upgrade``: apply the database migrations."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from copytrader.cli import EXIT_OK

if TYPE_CHECKING:
    from copytrader.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    upgrade = db_sub.add_parser("upgrade", help="apply database migrations")
    upgrade.set_defaults(handler=upgrade_command, needs_platform=False)


async def upgrade_command(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.reconcile import wiring

    async with wiring.open_store_only(s):
        pass  # opening the store applies the migrations
    print("database is at the latest revision", file=sys.stderr)
    return EXIT_OK
