"""``copytrader sim``: the partner API simulator; ``sim edit|start|stop BOT``: change one of a
running simulator's bots as a strategy manager would (through the partner API)."""

from __future__ import annotations

import argparse
import sys

from copytrader.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, parsers

_SIM = """\
Runs a platform simulator until SIGINT or SIGTERM: the HaasOnline partner API
(partner-api.md), or with --platform botprimex the BotPrimeX API (botprimex-api.md): bots,
users or accounts, the catalogue, rate limits and fault injection, in memory. --seed-demo
creates the demo's users and master bots (fixed ids). The API key clients must send is
--api-key, else $COPYTRADER_API_KEY, else sim-key.

A running simulator's bots are changed through the same API, as a strategy manager changes a
master: 'copytrader sim edit BOT KEY=VALUE...', 'copytrader sim stop BOT', 'sim start BOT'
(--host, --port and --api-key say which simulator)."""

_EDIT = """\
Edits a bot of a running simulator through its API, as a strategy manager's own tool would:
on HaasOnline POST /bots/edit (which needs the bot's owner as userId: it is looked up by a
sweep of /bots/list), on BotPrimeX PATCH /bots/:id with the master account's key. BOT may be
a unique prefix of the bot id. Each VALUE is read as a YAML scalar: 3600 is a number, true a
boolean, Price a string. A key the platform refuses to edit (canBeEdited: false on
HaasOnline, an immutable field on BotPrimeX) is refused by the simulator too (exit 1)."""


def _target(parser: argparse.ArgumentParser) -> None:
    """--host, --port, --api-key of the simulator to talk to (after the sub-command too)."""
    from copytrader.sim import cli as sim_cli

    parser.add_argument(
        "--host", default=argparse.SUPPRESS, help=f"its address (default: {sim_cli.DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port", type=int, default=argparse.SUPPRESS,
        help=f"its port (default: {sim_cli.DEFAULT_PORT})",
    )
    parser.add_argument(
        "--api-key", default=argparse.SUPPRESS,
        help="its API key (default: $COPYTRADER_API_KEY or sim-key; on BotPrimeX the master "
        "account's)",
    )
    parser.add_argument(
        "--platform", choices=("haas", "botprimex"), default=argparse.SUPPRESS,
        help="which simulator it is (default: $COPYTRADER_PLATFORM or haas)",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from copytrader.sim import cli as sim_cli

    sim = parsers.command(
        sub,
        "sim",
        summary="run the partner API simulator (sim edit|start|stop: change one of its bots)",
        description=_SIM,
        env=("COPYTRADER_API_KEY", "COPYTRADER_PLATFORM"),
        exits={EXIT_OK: "a clean stop (SIGINT, SIGTERM)", **parsers.USAGE},
        examples=[
            "copytrader sim --seed-demo --api-key sim-key &",
            "copytrader sim edit 6dafad4e stopValue=3900 stopExit=true --api-key sim-key",
            "copytrader sim stop 6dafad4e --api-key sim-key",
        ],
    )
    sim_cli.add_arguments(sim)
    sim.set_defaults(sync_handler=run)
    actions = sim.add_subparsers(dest="sim_command", metavar="[edit|start|stop]")
    exits = {
        EXIT_OK: "done",
        EXIT_FAILED: "the simulator refused the change or could not be reached",
        EXIT_USAGE: "no bot matches BOT (or several do), a KEY=VALUE without '='",
    }
    edit = parsers.command(
        actions,
        "edit",
        summary="edit settings of a running simulator's bot (POST /bots/edit)",
        description=_EDIT,
        env=("COPYTRADER_API_KEY",),
        exits=exits,
        examples=["copytrader sim edit 6dafad4e stopValue=3900 stopExit=true"],
    )
    edit.add_argument("bot", metavar="BOT", help="the bot id (or a unique prefix)")
    edit.add_argument("settings", metavar="KEY=VALUE", nargs="+", help="a setting and its value")
    _target(edit)
    edit.set_defaults(sync_handler=change)
    for name, what in (("start", "start"), ("stop", "stop")):
        p = parsers.command(
            actions,
            name,
            summary=f"{what} a running simulator's bot (POST /bots/{name})",
            env=("COPYTRADER_API_KEY",),
            exits=exits,
        )
        p.add_argument("bot", metavar="BOT", help="the bot id (or a unique prefix)")
        _target(p)
        p.set_defaults(sync_handler=change)


def run(args: argparse.Namespace) -> int:
    from copytrader.sim import cli as sim_cli

    return sim_cli.run_from_args(args)


def change(args: argparse.Namespace) -> int:
    import asyncio

    from copytrader import settings
    from copytrader.cli import sim_control
    from copytrader.errors import ConfigError, PlatformError, UsageError
    from copytrader.observe import logging as obs_logging

    try:
        obs_logging.configure(settings.load(require_platform=False).log_format, None)
    except ConfigError:
        obs_logging.configure("json", None)  # a bad variable is not this command's business
    try:
        line = asyncio.run(sim_control.change(args))
    except UsageError as exc:
        print(f"copytrader sim {args.sim_command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PlatformError as exc:
        print(f"copytrader sim {args.sim_command}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(line)
    return EXIT_OK
