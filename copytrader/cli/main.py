"""The ``copytrader`` command line.

stdout carries only a command's result (a table, or the ``--json`` document); logs go to
stderr. Exit codes: 0 success, 1 work failed (or a policy file was invalid during a
reconcile), 2 usage or configuration error (one line naming the problem).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from copytrader import __version__
from copytrader.cli import EXIT_FAILED, EXIT_USAGE
from copytrader.errors import ConfigError, CopytraderError, StoreError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="copytrader",
        description="Keeps followers' clones of master bots in step through a partner API.",
    )
    parser.add_argument("--version", action="version", version=f"copytrader {__version__}")
    parser.add_argument("--config", help="TOML file with settings (env COPYTRADER_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    policy = sub.add_parser("policy", help="policy file commands")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True, metavar="SUBCOMMAND")
    policy_sub.add_parser("check", help="validate every policy file against the platform")

    for name, text in (
        ("plan", "what a reconcile would do now (read requests only)"),
        ("reconcile", "one reconcile pass, then exit"),
        ("status", "per master: follower counts, sync state, ROI (from the database)"),
        ("drift", "every follower whose clone differs from its desired state now"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--json", action="store_true", help="print the JSON document")

    sub.add_parser("run", help="the daemon: reconcile every interval until SIGTERM")

    audit = sub.add_parser("audit", help="the audit trail, oldest first")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    audit.add_argument("--master")
    audit.add_argument("--follower")
    audit.add_argument("--action")
    audit.add_argument("--since", help="ISO 8601 time or a span like 90m, 12h, 7d")
    audit.add_argument("--until", help="ISO 8601 time or a span like 90m, 12h, 7d")
    audit.add_argument("--limit", type=_positive_int, help="only the newest N events")

    history = sub.add_parser("history", help="follower counts, ROI and tracking error over time")
    target = history.add_mutually_exclusive_group()
    target.add_argument("--master")
    target.add_argument("--follower")
    history.add_argument("--since")
    history.add_argument("--until")
    history.add_argument("--bucket", help="average per time bucket, e.g. 1h or 1d")
    fmt = history.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true", help="CSV for spreadsheets")

    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    db_sub.add_parser("upgrade", help="apply database migrations")

    from copytrader.sim import cli as sim_cli

    sim = sub.add_parser("sim", help="run the partner API simulator")
    sim_cli.add_arguments(sim)

    demo = sub.add_parser("demo", help="simulator + daemon + example policies on embedded SQLite")
    demo.add_argument("--dir", default=".demo", help="folder for the demo's policies and database")
    demo.add_argument(
        "--seconds", type=float, default=0, help="stop after this long (0: until Ctrl-C)"
    )
    demo.add_argument(
        "--headless", action="store_true", help="no live view; print a summary at the end"
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        print(f"copytrader: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"copytrader: database error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except CopytraderError as exc:
        print(f"copytrader: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    from copytrader.cli import commands

    if args.command == "sim":
        from copytrader.sim import cli as sim_cli

        return sim_cli.run_from_args(args)
    if args.command == "demo":
        from copytrader.cli import demo

        return demo.run(args)
    return asyncio.run(commands.run(args))


if __name__ == "__main__":
    sys.exit(main())
