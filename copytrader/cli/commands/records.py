"""``copytrader status``, ``audit`` and ``history``: the commands that read the database only.

They never contact the platform and start fast: the database is opened with one cheap query
to check its schema revision (see :func:`copytrader.store.engine.open_store`).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from copytrader.cli import EXIT_OK, EXIT_USAGE, context, parsers
from copytrader.core.audit_actions import ACTIONS
from copytrader.errors import UsageError

if TYPE_CHECKING:
    from copytrader.settings import Settings
    from copytrader.store.database import Reader

_TIME = (
    "ISO 8601 (2026-12-01T00:00:00Z, UTC when no offset) or a span back from now: "
    "30s, 90m, 12h, 7d, 2w"
)
_ID = "a unique prefix is enough, such as the short id the tables show"


def _actions_help() -> str:
    return parsers.listing("audit actions (--action)", list(ACTIONS.items()))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status_p = parsers.command(
        sub,
        "status",
        summary="per master: follower counts, sync state, ROI (from the database)",
        description="Per master: its status and ROI, how many followers its policy lists, how "
        "many clones exist and are in sync, and what needs a look (drifted, failed, paused, "
        "suspected duplicates, adopt candidates), from the latest reconcile pass recorded in "
        "the database. Says which pass the figures come from and when it ran. Reads the "
        "database only.",
        env=(*parsers.READ_DATABASE, *parsers.TABLES),
        exits={EXIT_OK: "done (also when nothing is recorded yet)", **parsers.USAGE},
        examples=["copytrader status", "copytrader status --json | jq '.masters[].in_sync'"],
    )
    parsers.table_options(status_p)
    status_p.set_defaults(handler=status, needs_platform=False, needs_logs=False)

    audit_p = parsers.command(
        sub,
        "audit",
        summary="the audit trail, oldest first",
        description="The audit trail, oldest first: every decision and platform write, with "
        "the filters given (all of them must match). Reads the database only.",
        env=(*parsers.READ_DATABASE, *parsers.TABLES),
        exits={
            EXIT_OK: "done (also when no event matches the filters)",
            EXIT_USAGE: "a bad option: an unknown action, a bad time, --since after "
            "--until, an id prefix that matches no id in the audit trail or several",
        },
        notes=_actions_help(),
        examples=[
            "copytrader audit --since 12h",
            "copytrader audit --master 6dafad4e --action edit --limit 20",
            "copytrader audit --follower f873b314 --since 2026-12-01 --until 7d --json",
        ],
    )
    parsers.table_options(audit_p, json_help="one JSON object per line instead of the table")
    audit_p.add_argument("--master", metavar="ID", help=f"one master's events ({_ID})")
    audit_p.add_argument("--follower", metavar="USER", help=f"one follower's events ({_ID})")
    audit_p.add_argument(
        "--action", metavar="ACTION", help="one action's events (listed below)"
    )
    audit_p.add_argument("--since", metavar="T", help=f"events at or after T: {_TIME}")
    audit_p.add_argument("--until", metavar="T", help="events at or before T (as --since)")
    audit_p.add_argument(
        "--limit",
        metavar="N",
        type=context.positive_int,
        help="only the newest N events, still oldest first (default: every event)",
    )
    audit_p.set_defaults(handler=audit, needs_platform=False, needs_logs=False)

    history_p = parsers.command(
        sub,
        "history",
        summary="follower counts, ROI and tracking error over time",
        description="Follower counts, ROI and tracking error over time, per pass or averaged "
        "per --bucket: per master (the mean over its clones), or one follower's clone "
        "against its master with --follower. Reads the database only.",
        env=(*parsers.READ_DATABASE, *parsers.TABLES),
        exits={
            EXIT_OK: "done (also when no snapshot matches)",
            EXIT_USAGE: "a bad option: a bad time or bucket, --since after --until, "
            "an id prefix that matches no id or several",
        },
        examples=[
            "copytrader history --master 6dafad4e --since 30d --bucket 1d",
            "copytrader history --follower f873b314 --csv > roi.csv",
        ],
    )
    target = history_p.add_mutually_exclusive_group()
    target.add_argument("--master", metavar="ID", help=f"one master ({_ID})")
    target.add_argument(
        "--follower", metavar="USER", help=f"one follower's clone, per master ({_ID})"
    )
    history_p.add_argument("--since", metavar="T", help=f"passes at or after T: {_TIME}")
    history_p.add_argument("--until", metavar="T", help="passes at or before T (as --since)")
    history_p.add_argument(
        "--bucket",
        metavar="SPAN",
        help="average per time bucket, such as 1h or 1d (default: one row per pass)",
    )
    fmt = history_p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the JSON document instead")
    fmt.add_argument("--csv", action="store_true", help="CSV for spreadsheets instead")
    history_p.add_argument(
        "--wide", action="store_true", help="full ids and every column, however wide"
    )
    history_p.set_defaults(handler=history, needs_platform=False, needs_logs=False)


async def status(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.cli import tables
    from copytrader.store import queries

    async with context.open_store(s) as store:
        doc = await queries.status(store)
    if args.json:
        context.print_json(doc)
    else:
        tables.render_status(context.out(args.wide), doc, wide=args.wide)
    return EXIT_OK


async def _action(store: Reader, given: str | None) -> str | None:
    """``--action`` when it is a known action (or one on record); UsageError otherwise."""
    if given is None or given in ACTIONS:
        return given
    from copytrader.core import words
    from copytrader.store import lookup

    recorded = await lookup.actions(store)
    if given in recorded:
        return given
    known = list(dict.fromkeys([*ACTIONS, *recorded]))
    raise UsageError(
        f"--action: unknown action {given!r}{words.did_you_mean(given, known)} "
        f"(known: {', '.join(known)}; copytrader audit --help says what each means)"
    )


async def audit(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.cli import tables
    from copytrader.store import queries

    since, until = context.window(args.since, args.until, datetime.now(UTC))
    async with context.open_store(s) as store:
        action = await _action(store, args.action)
        master = await context.prefix(
            store, "master", args.master, "audit_events", "master", "in the audit trail"
        )
        follower = await context.prefix(
            store, "follower", args.follower, "audit_events", "follower", "in the audit trail"
        )
        rows = await queries.audit(
            store,
            master=master,
            follower=follower,
            action=action,
            since=since,
            until=until,
            limit=args.limit,
        )
    if args.json:
        sys.stdout.writelines(json.dumps(row, default=str) + "\n" for row in rows)
    else:
        tables.render_audit(context.out(args.wide), rows, wide=args.wide)
    return EXIT_OK


async def history(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.cli import tables
    from copytrader.store import queries

    since, until = context.window(args.since, args.until, datetime.now(UTC))
    if args.bucket is not None:
        try:
            queries.parse_span(args.bucket)
        except ValueError as exc:
            raise UsageError(f"--bucket: {exc}") from None
    async with context.open_store(s) as store:
        master = await context.prefix(
            store, "master", args.master, "snapshots", "master", "in the history"
        )
        follower = await context.prefix(
            store, "follower", args.follower, "snapshots", "follower", "in the history"
        )
        rows = await queries.history(
            store,
            master=master,
            follower=follower,
            since=since,
            until=until,
            bucket=args.bucket,
        )
    if args.json:
        context.print_json({"history": rows})
    elif args.csv:
        sys.stdout.write(queries.to_csv(rows))
    else:
        tables.render_history(context.out(args.wide), rows, wide=args.wide)
    return EXIT_OK
