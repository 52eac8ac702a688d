"""``copytrader run``: the daemon."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from copytrader.cli import EXIT_FAILED, EXIT_OK, parsers

if TYPE_CHECKING:
    from copytrader.settings import Settings

_RUN = """\
The daemon: reconciles at start and then every COPYTRADER_INTERVAL_SECONDS while it holds
the writer lease (a standby otherwise, taking over when the leader stops or dies), re-reads
the policy folder when a file changes (or on SIGHUP), serves /healthz, /metrics and the
dashboard on COPYTRADER_HTTP_LISTEN, and stops cleanly on SIGTERM or SIGINT. Logs go to
stderr (or COPYTRADER_LOG_FILE)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = parsers.command(
        sub,
        "run",
        summary="the daemon: reconcile every interval until SIGTERM",
        description=_RUN,
        env=(
            *parsers.WRITE_PLATFORM,
            "COPYTRADER_INTERVAL_SECONDS",
            "COPYTRADER_HTTP_LISTEN",
            "COPYTRADER_HTTP_TOKEN",
            "COPYTRADER_RETENTION_DAYS",
            "COPYTRADER_SHUTDOWN_TIMEOUT_SECONDS",
        ),
        exits={
            EXIT_OK: "a clean stop (SIGTERM, SIGINT)",
            EXIT_FAILED: "the daemon could not start (the database, the listener)",
            **parsers.USAGE,
        },
    )
    run.set_defaults(handler=daemon, needs_platform=True)


async def daemon(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.daemon.app import Daemon
    from copytrader.policy import loader

    daemon = Daemon(s)  # checks its own settings first (the notification sinks)
    # A policy folder missing at start is a configuration error (exit 2); one that goes
    # away while the daemon runs only aborts passes until it is back.
    loader.check_dir(s.policy_dir)
    return await daemon.serve()
