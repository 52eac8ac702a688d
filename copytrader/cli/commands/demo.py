"""``copytrader demo``: simulator + daemon + example policies on embedded SQLite."""

from __future__ import annotations

import argparse

from copytrader.cli import EXIT_OK, context, parsers

_DEMO = """\
One process, no network and no configuration: the partner API simulator on a free loopback
port (seeded with three master bots and their followers), the example policies written to
DIR/policies, and the daemon (the same code as 'copytrader run', a pass every 3 s) on SQLite at
DIR/copytrader.db, started afresh. A few seconds in, the strategy manager edits a master and
the next pass carries the edit to its followers. Edit a file in DIR/policies while it runs:
the next pass applies it. Policy files you edited are kept at the next demo
(--reset-policies restores the examples). The live view needs a terminal; --headless prints
logs on stderr and a JSON summary on stdout. --platform botprimex runs the BotPrimeX world
(a master account and four follower accounts, their keys in DIR/accounts.toml)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = parsers.command(
        sub,
        "demo",
        summary="simulator + daemon + example policies on embedded SQLite",
        description=_DEMO,
        env=("COPYTRADER_LOG_FORMAT", "COPYTRADER_HTTP_LISTEN"),
        exits={EXIT_OK: "a clean stop (Ctrl-C or --seconds)", **parsers.USAGE},
        examples=["copytrader demo", "copytrader demo --headless --seconds 30"],
    )
    demo.add_argument(
        "--dir", default=".demo", metavar="DIR", help="folder for the demo's policies and database"
    )
    demo.add_argument(
        "--seconds",
        type=context.seconds,
        default=0.0,
        metavar="N",
        help="stop after N seconds (default: 0, run until Ctrl-C)",
    )
    demo.add_argument(
        "--headless", action="store_true", help="no live view; print a JSON summary at the end"
    )
    demo.add_argument(
        "--reset-policies",
        action="store_true",
        help="overwrite DIR/policies with the examples, edits included (default: keep the "
        "files you edited)",
    )
    demo.add_argument(
        "--platform",
        choices=("haas", "botprimex"),
        default="haas",
        help="which platform's world to run: the HaasOnline partner API or BotPrimeX's "
        "accounts (default: haas)",
    )
    demo.set_defaults(sync_handler=run)


def run(args: argparse.Namespace) -> int:
    from copytrader.cli import demo

    return demo.run(args)
