"""``copytrader web [--listen HOST:PORT]``: the dashboard from the database alone.

Serves the same pages and JSON as the daemon's listener, reading only the database (and the
policy folder, for a follower's desired settings); it never talks to the platform and never
writes. Open pages update when a pass ends (it watches the ``runs`` table). Off loopback it
needs ``COPYTRADER_HTTP_TOKEN``. Runs until SIGTERM or Ctrl-C, then exits 0.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from copytrader.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, parsers

if TYPE_CHECKING:
    from copytrader.settings import Settings


_WEB = """\
The web dashboard from the database alone: every master (status, ROI, counts), one master's
followers' clones with a chart of ROI over time, one follower's desired settings by layer and
its audit events, and the audit trail with the audit filters; open pages update when a pass
ends. The same pages and JSON (/api/) as the daemon's listener, read-only: it never talks to
the platform and never writes. Off loopback it needs COPYTRADER_HTTP_TOKEN (a login form sets
a cookie; the bearer header works too). Runs until SIGTERM or Ctrl-C; its URL goes to
stderr."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    web = parsers.command(
        sub,
        "web",
        summary="the dashboard from the database alone (read-only, no platform)",
        description=_WEB,
        env=(
            *parsers.CONFIG,
            *parsers.DATABASE,
            *parsers.POLICIES,
            "COPYTRADER_HTTP_LISTEN",
            "COPYTRADER_HTTP_TOKEN",
            *parsers.LOGS,
        ),
        exits={
            EXIT_OK: "a clean stop (SIGTERM, Ctrl-C)",
            EXIT_FAILED: "the database could not be opened",
            EXIT_USAGE: "a bad, busy or unprotected address (off loopback without "
            "COPYTRADER_HTTP_TOKEN), one line naming it",
        },
        examples=["copytrader web", "COPYTRADER_HTTP_TOKEN=... copytrader web --listen "
                  "0.0.0.0:8740"],
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
