"""``copytrader status``, ``audit`` and ``history``: the commands that read the database only."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from copytrader.cli import EXIT_OK, context
from copytrader.errors import ConfigError

if TYPE_CHECKING:
    from copytrader.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status_p = sub.add_parser(
        "status", help="per master: follower counts, sync state, ROI (from the database)"
    )
    status_p.add_argument("--json", action="store_true", help="print the JSON document")
    status_p.set_defaults(handler=status, needs_platform=False)

    audit_p = sub.add_parser("audit", help="the audit trail, oldest first")
    audit_p.add_argument("--json", action="store_true", help="one JSON object per line")
    audit_p.add_argument("--master")
    audit_p.add_argument("--follower")
    audit_p.add_argument("--action")
    audit_p.add_argument("--since", help="ISO 8601 time or a span like 90m, 12h, 7d")
    audit_p.add_argument("--until", help="ISO 8601 time or a span like 90m, 12h, 7d")
    audit_p.add_argument("--limit", type=context.positive_int, help="only the newest N events")
    audit_p.set_defaults(handler=audit, needs_platform=False)

    history_p = sub.add_parser(
        "history", help="follower counts, ROI and tracking error over time"
    )
    target = history_p.add_mutually_exclusive_group()
    target.add_argument("--master")
    target.add_argument("--follower")
    history_p.add_argument("--since")
    history_p.add_argument("--until")
    history_p.add_argument("--bucket", help="average per time bucket, e.g. 1h or 1d")
    fmt = history_p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true", help="CSV for spreadsheets")
    history_p.set_defaults(handler=history, needs_platform=False)


async def status(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.cli import tables
    from copytrader.reconcile import wiring
    from copytrader.store import queries

    async with wiring.open_store_only(s) as store:
        doc = await queries.status(store)
    if args.json:
        context.print_json(doc)
    else:
        tables.render_status(context.out(), doc)
    return EXIT_OK


async def audit(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.cli import tables
    from copytrader.reconcile import wiring
    from copytrader.store import queries

    now = datetime.now(UTC)
    since = context.parse_time("since", args.since, now)
    until = context.parse_time("until", args.until, now)
    async with wiring.open_store_only(s) as store:
        rows = await queries.audit(
            store,
            master=args.master,
            follower=args.follower,
            action=args.action,
            since=since,
            until=until,
            limit=args.limit,
        )
    if args.json:
        for row in rows:
            sys.stdout.write(json.dumps(row, default=str) + "\n")
    else:
        tables.render_audit(context.out(), rows)
    return EXIT_OK


async def history(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.cli import tables
    from copytrader.reconcile import wiring
    from copytrader.store import queries

    now = datetime.now(UTC)
    since = context.parse_time("since", args.since, now)
    until = context.parse_time("until", args.until, now)
    if args.bucket is not None:
        try:
            queries.parse_span(args.bucket)
        except ValueError as exc:
            raise ConfigError(f"--bucket: {exc}") from None
    async with wiring.open_store_only(s) as store:
        rows = await queries.history(
            store,
            master=args.master,
            follower=args.follower,
            since=since,
            until=until,
            bucket=args.bucket,
        )
    if args.json:
        context.print_json({"history": rows})
    elif args.csv:
        sys.stdout.write(queries.to_csv(rows))
    else:
        tables.render_history(context.out(), rows)
    return EXIT_OK
