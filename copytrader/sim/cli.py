"""Command-line options of the simulators, shared by ``python -m copytrader.sim`` and the
CLI: ``--platform haas`` (the default, or ``$COPYTRADER_PLATFORM``) or ``botprimex``.

The servers (aiohttp) and asyncio are imported only when a simulator runs, so that
``copytrader --help`` and the other commands do not pay for them."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8780


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options (host, port, key, seeding, rate limit, latency)."""
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0: any free)")
    parser.add_argument("--api-key", default=None,
                        help="API key clients must send (default: $COPYTRADER_API_KEY "
                             "or sim-key)")
    parser.add_argument("--seed-demo", action="store_true",
                        help="create the demo users and master bots")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed of ids and prices (default: 0)")
    parser.add_argument("--rate-limit", type=_positive_int, default=None,
                        help="requests per minute before answering 429 (default: no limit)")
    parser.add_argument("--latency", type=_non_negative_float, default=0.0,
                        help="seconds added to every response (default: 0)")
    parser.add_argument("--platform", choices=("haas", "botprimex"),
                        default=os.environ.get("COPYTRADER_PLATFORM") or "haas",
                        help="which API to simulate (default: $COPYTRADER_PLATFORM or haas)")
    bpx = parser.add_argument_group("botprimex")
    bpx.add_argument("--accounts-file", type=Path, default=None,
                     help="follower accounts' keys (TOML [accounts.NAME] api_key): read when "
                          "it exists, else written (0600) with fresh keys")
    bpx.add_argument("--webhook-url", default=None,
                     help="POST every account's events (bot.*, trade.*) to this URL")
    bpx.add_argument("--trade-seconds", type=_non_negative_float, default=30.0,
                     help="how long a simulated trade stays open (default 30)")


def _accounts(path: Path | None, master_key: str) -> dict[str, str]:
    """The follower keys of an existing accounts file, or {} (then the simulator makes keys
    and :func:`_write_accounts` writes them)."""
    if path is None or not path.exists():
        return {}
    from copytrader import accounts
    from copytrader.settings import Secret

    return {name: key.reveal() for name, key in accounts.load(path, Secret(master_key)).items()}


def write_accounts(path: Path, keys: dict[str, str]) -> None:
    """Write an accounts file (0600, never over an existing file)."""
    text = "".join(f'[accounts.{name}]\napi_key = "{key}"\n\n' for name, key in keys.items())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def run_from_args(args: argparse.Namespace) -> int:
    """Run the simulator with parsed options until SIGINT/SIGTERM; returns the exit code."""
    import asyncio

    from copytrader.errors import ConfigError

    api_key = args.api_key or os.environ.get("COPYTRADER_API_KEY") or "sim-key"
    try:
        if args.platform == "botprimex":
            asyncio.run(_botprimex(args, api_key))
        else:
            from copytrader.sim.haas.server import serve

            asyncio.run(serve(args.host, args.port, api_key, seed_demo=args.seed_demo,
                              seed=args.seed, rate_limit_per_minute=args.rate_limit,
                              latency=args.latency))
    except KeyboardInterrupt:
        pass
    except ConfigError as exc:
        print(f"copytrader sim: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the port is taken
        print(f"copytrader sim: cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 2
    return 0


async def _botprimex(args: argparse.Namespace, api_key: str) -> None:
    from copytrader.sim.botprimex import seed
    from copytrader.sim.botprimex.server import serve

    keys = _accounts(args.accounts_file, api_key)
    if args.accounts_file is not None and not keys:
        keys = {name: seed.new_key() for name in seed.FOLLOWERS}
        write_accounts(args.accounts_file, keys)
    await serve(args.host, args.port, api_key, keys, seed_demo=args.seed_demo, seed=args.seed,
                latency=args.latency, webhook_url=args.webhook_url,
                trade_seconds=args.trade_seconds, accounts_file=args.accounts_file)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m copytrader.sim``."""
    parser = argparse.ArgumentParser(prog="python -m copytrader.sim",
                                     description="Partner API simulator")
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))
