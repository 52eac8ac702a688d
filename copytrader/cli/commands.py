"""The commands that talk to the platform or the database (everything but sim and demo)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from copytrader import settings as settings_mod
from copytrader.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, tables
from copytrader.core.desired import Source
from copytrader.core.plan import Action, Kind
from copytrader.errors import ConfigError
from copytrader.observe import logging as obs_logging
from copytrader.observe import redact
from copytrader.reconcile import wiring
from copytrader.store import queries

#: Commands that need no partner API (they read the database only).
LOCAL = {"status", "audit", "history", "db"}


def _settings(args: argparse.Namespace) -> settings_mod.Settings:
    s = settings_mod.load(config_file=args.config, require_platform=args.command not in LOCAL)
    if s.platform.api_key:
        redact.register_secret(s.platform.api_key.reveal())
    obs_logging.configure(s.log_format, s.log_file)
    return s


def _out() -> Console:
    # Results only on stdout; wide enough that piped tables are not cut.
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200, soft_wrap=False)


def _for_people(actions: Sequence[Action], docs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The action documents for the human table: a new clone lists only the values that do
    not come from the master (the JSON output keeps every key)."""
    out = []
    for action, doc in zip(actions, docs, strict=True):
        if action.kind is Kind.CLONE:
            own = {
                k: v
                for k, v in doc["changes"].items()
                if action.changes[k].layer not in (None, Source.MASTER)
            }
            same = len(doc["changes"]) - len(own)
            if same:
                own[f"(+{same} as the master)"] = [None, "..."]
            doc = {**doc, "changes": own}
        out.append(doc)
    return out


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, default=str) + "\n")


async def run(args: argparse.Namespace) -> int:
    s = _settings(args)
    handler = {
        "policy": policy_check,
        "plan": plan,
        "reconcile": reconcile,
        "drift": drift,
        "status": status,
        "audit": audit,
        "history": history,
        "db": db_upgrade,
        "run": daemon,
    }[args.command]
    result: int = await handler(args, s)
    return result


async def policy_check(args: argparse.Namespace, s: settings_mod.Settings) -> int:
    from copytrader.platform.haas.client import PlatformClient
    from copytrader.policy import check

    async with PlatformClient.from_settings(s.platform) as platform:
        problems = await check.check(s.policy_dir, platform)
    for problem in problems:
        print(problem)
    if problems:
        files = len({p.file for p in problems})
        print(f"{len(problems)} problem(s) in {files} file(s)", file=sys.stderr)
        return EXIT_USAGE
    print("all policy files are valid", file=sys.stderr)
    return EXIT_OK


async def plan(args: argparse.Namespace, s: settings_mod.Settings) -> int:
    async with wiring.open_service(s) as svc:
        the_plan, problems = await svc.reconciler.plan()
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.json:
        _print_json(the_plan.to_json())
    else:
        actions = the_plan.actions
        tables.render_plan(_out(), _for_people(actions, [a.to_json() for a in actions]))
    return EXIT_OK


async def reconcile(args: argparse.Namespace, s: settings_mod.Settings) -> int:
    async with wiring.open_service(s) as svc:
        result = await svc.reconciler.run_pass()
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.error:
        print(f"copytrader: pass aborted: {result.error}", file=sys.stderr)
    if args.json:
        _print_json(result.to_json())
    else:
        tables.render_plan(_out(), _for_people(result.plan.actions, result.to_json()["actions"]))
    return EXIT_OK if result.converged else EXIT_FAILED


async def drift(args: argparse.Namespace, s: settings_mod.Settings) -> int:
    async with wiring.open_service(s) as svc:
        found = await svc.reconciler.drift()
    if args.json:
        _print_json({"drift": found})
    else:
        tables.render_drift(_out(), found)
    return EXIT_OK


async def status(args: argparse.Namespace, s: settings_mod.Settings) -> int:
    async with wiring.open_store_only(s) as store:
        doc = await queries.status(store)
    if args.json:
        _print_json(doc)
    else:
        tables.render_status(_out(), doc)
    return EXIT_OK


def _time(name: str, text: str | None, now: datetime) -> datetime | None:
    if text is None:
        return None
    try:
        return queries.parse_time(text, now)
    except ValueError as exc:
        raise ConfigError(f"--{name}: {exc}") from None


async def audit(args: argparse.Namespace, s: settings_mod.Settings) -> int:
    now = datetime.now(UTC)
    since, until = _time("since", args.since, now), _time("until", args.until, now)
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
        tables.render_audit(_out(), rows)
    return EXIT_OK


async def history(args: argparse.Namespace, s: settings_mod.Settings) -> int:
    now = datetime.now(UTC)
    since, until = _time("since", args.since, now), _time("until", args.until, now)
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
        _print_json({"history": rows})
    elif args.csv:
        sys.stdout.write(queries.to_csv(rows))
    else:
        tables.render_history(_out(), rows)
    return EXIT_OK


async def db_upgrade(args: argparse.Namespace, s: settings_mod.Settings) -> int:
    async with wiring.open_store_only(s):
        pass  # opening the store applies the migrations
    print("database is at the latest revision", file=sys.stderr)
    return EXIT_OK


async def daemon(args: argparse.Namespace, s: settings_mod.Settings) -> int:
    from copytrader.daemon import app

    return await app.run(s)
