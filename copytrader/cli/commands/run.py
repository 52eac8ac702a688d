"""``copytrader run``: the daemon."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from copytrader.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser("run", help="the daemon: reconcile every interval until SIGTERM")
    run.set_defaults(handler=daemon, needs_platform=True)


async def daemon(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.daemon import app

    return await app.run(s)
