"""``copytrader web [--listen HOST:PORT]``: the dashboard from the database alone.

Serves the same pages and JSON as the daemon's listener, reading only the database (and the
policy folder, for a follower's desired settings); it never talks to the platform and never
writes. Open pages update when a pass ends (it watches the ``runs`` table). Off loopback it
needs ``COPYTRADER_HTTP_TOKEN``. Runs until SIGTERM or Ctrl-C, then exits 0.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from copytrader.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    web = sub.add_parser(
        "web", help="the dashboard from the database alone (read-only, no platform)"
    )
    web.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="where to listen (default: COPYTRADER_HTTP_LISTEN, else 127.0.0.1:8737)",
    )
    web.set_defaults(handler=serve, needs_platform=False)


async def serve(args: argparse.Namespace, s: Settings) -> int:
    import asyncio
    import sys

    import structlog

    from copytrader import settings as settings_mod
    from copytrader.cli import EXIT_OK
    from copytrader.daemon.http import HttpEndpoint
    from copytrader.daemon.signals import SignalHandlers
    from copytrader.observe import redact
    from copytrader.reconcile import wiring
    from copytrader.web.auth import require_token
    from copytrader.web.dashboard import Dashboard

    setting = "--listen" if args.listen is not None else "COPYTRADER_HTTP_LISTEN"
    if args.listen is not None:
        host, port = settings_mod.parse_listen(setting, args.listen)
    else:
        host, port = s.daemon.http_listen
    token = require_token(host, s.daemon.http_token, setting=setting)
    if s.daemon.http_token:
        redact.register_secret(s.daemon.http_token.reveal())
    stop = asyncio.Event()
    async with wiring.open_store_only(s) as store:
        board = Dashboard(store, s.policy_dir, token)

        async def health() -> tuple[bool, dict[str, Any]]:
            ok = await store.ping()
            doc = {"role": "dashboard", "status": "ok" if ok else "unhealthy"}
            if not ok:
                doc["reason"] = "database unreachable"
            return ok, doc

        endpoint = HttpEndpoint(host, port, token, health=health, dashboard=board,
                                setting=setting)
        await endpoint.start()
        try:
            print(f"copytrader web: dashboard at {endpoint.url}/", file=sys.stderr, flush=True)
            structlog.get_logger("copytrader.web").info(
                "dashboard serving", url=endpoint.url, token_required=token is not None
            )
            with SignalHandlers(lambda _name: stop.set(), lambda: None):
                await stop.wait()
        finally:
            await endpoint.stop()
    return EXIT_OK
