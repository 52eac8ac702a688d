"""Command-line options of the simulator, shared by ``python -m copytrader.sim`` and the CLI.

The server (aiohttp) is imported only when the simulator runs, so that ``copytrader --help``
and the other commands do not pay for it.
"""

from __future__ import annotations

import argparse
import os
import sys

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
    parser.add_argument("--seed", type=int, default=0, help="random seed of ids and prices")
    parser.add_argument("--rate-limit", type=_positive_int, default=None,
                        help="requests per minute before answering 429 (default: no limit)")
    parser.add_argument("--latency", type=_non_negative_float, default=0.0,
                        help="seconds added to every response")


def run_from_args(args: argparse.Namespace) -> int:
    """Run the simulator with parsed options until SIGINT/SIGTERM; returns the exit code."""
    import asyncio

    from copytrader.sim.haas.server import serve

    api_key = args.api_key or os.environ.get("COPYTRADER_API_KEY") or "sim-key"
    try:
        asyncio.run(serve(args.host, args.port, api_key, seed_demo=args.seed_demo,
                          seed=args.seed, rate_limit_per_minute=args.rate_limit,
                          latency=args.latency))
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # e.g. the port is taken
        print(f"copytrader sim: cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m copytrader.sim``."""
    parser = argparse.ArgumentParser(prog="python -m copytrader.sim",
                                     description="Partner API simulator")
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))
