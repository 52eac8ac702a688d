"""``copytrader db upgrade``: apply the database migrations."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from copytrader.cli import EXIT_FAILED, EXIT_OK, parsers

if TYPE_CHECKING:
    from copytrader.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db_sub = parsers.group(
        sub, "db", summary="database commands (db upgrade)", dest="db_command"
    )
    upgrade = parsers.command(
        db_sub,
        "upgrade",
        summary="apply database migrations",
        description="Brings the database schema to the newest revision this copytrader "
        "ships (the other commands do so on first use too). Safe to run while a daemon "
        "runs: concurrent upgrades take turns.",
        env=(*parsers.CONFIG, *parsers.DATABASE),
        exits={
            EXIT_OK: "the database is at the newest revision",
            EXIT_FAILED: "the database could not be reached or migrated",
            **parsers.USAGE,
        },
    )
    upgrade.set_defaults(handler=upgrade_command, needs_platform=False)


async def upgrade_command(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.reconcile import wiring

    async with wiring.open_store_only(s):
        pass  # opening the store applies the migrations
    print("database is at the latest revision", file=sys.stderr)
    return EXIT_OK
