"""The ``copytrader`` command line.

stdout carries only a command's result (a table, or the ``--json`` document); logs go to
stderr. Exit codes: 0 success, 1 work failed (or a policy file was invalid during a
reconcile), 2 usage or configuration error (one line naming the problem), 3 the writer lease
is held by another process. Each sub-command lives in its own module under
:mod:`copytrader.cli.commands` and builds its parser with :mod:`copytrader.cli.parsers`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from copytrader import __version__
from copytrader.cli import EXIT_FAILED, EXIT_LEASE, EXIT_USAGE, parsers
from copytrader.cli.commands import (
    adopt,
    db,
    demo,
    explain,
    follower,
    planning,
    policy,
    records,
    resume,
    run,
    sim,
    web,
)
from copytrader.errors import ConfigError, CopytraderError, LeaseHeldError, StoreError, UsageError

#: The command modules, in the order ``--help`` lists them.
COMMANDS: tuple[ModuleType, ...] = (
    policy,
    planning,
    explain,
    follower,
    adopt,
    resume,
    run,
    records,
    web,
    db,
    sim,
    demo,
)


def build_parser() -> argparse.ArgumentParser:
    parser = parsers.Parser(
        prog="copytrader",
        description="Keeps followers' clones of master bots in step through a partner API.",
        epilog="Run 'copytrader COMMAND --help' for a command's options, defaults, "
        "environment variables and exit codes.",
        formatter_class=parsers.Formatter,
    )
    parser.add_argument("--version", action="version", version=f"copytrader {__version__}")
    parsers.global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    prog = getattr(args, "prog", "copytrader")
    try:
        return _dispatch(args)
    except UsageError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"{prog}: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"{prog}: database error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except LeaseHeldError as exc:
        print(f"{prog}: {exc} (--wait SECONDS waits for it)", file=sys.stderr)
        return EXIT_LEASE
    except CopytraderError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    sync_handler = getattr(args, "sync_handler", None)
    if sync_handler is not None:
        code: int = sync_handler(args)
        return code
    import asyncio

    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from copytrader.cli import context

    settings = context.load_settings(
        args, platform=args.needs_platform, logs=getattr(args, "needs_logs", True)
    )
    code: int = await args.handler(args, settings)
    return code


if __name__ == "__main__":
    sys.exit(main())
