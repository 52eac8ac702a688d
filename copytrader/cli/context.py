"""What every command shares: its settings, its stdout console, and its input parsers.

stdout carries only a command's result (a table, or the ``--json`` document); logs and
progress go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from copytrader.errors import UsageError

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from rich.console import Console

    from copytrader.settings import Settings
    from copytrader.store.database import Reader


def load_settings(args: argparse.Namespace, *, platform: bool, logs: bool = True) -> Settings:
    """The settings of this command (``platform``: it needs the partner API), with the API
    key, every follower account's key, the webhook token, and the notification URLs and
    secret registered as secrets, and (``logs``) logging configured. A database-only command
    logs nothing of its own and skips structlog's set-up (it starts faster); library warnings
    still reach stderr through the standard logging module."""
    from copytrader import settings as settings_mod

    s = settings_mod.load(config_file=args.config, require_platform=platform)
    keys = (s.platform.api_key, *s.platform.accounts.values(), s.daemon.webhook_token)
    secrets = [k.reveal() for k in keys if k]
    secrets += [x for x in s.notify.secrets() if x]  # the notification URLs, webhook secret
    if secrets:
        from copytrader.observe import redact

        for secret in secrets:
            redact.register_secret(secret)
    if logs:
        from copytrader.observe import logging as obs_logging

        obs_logging.configure(s.log_format, s.log_file)
    return s


#: The width of a ``--wide`` table: as wide as it needs.
UNLIMITED = 100_000


def width(wide: bool = False) -> int:
    """How wide the command's result may be: ``COLUMNS`` when set, else the terminal's width
    when stdout is a terminal, else 80; ``--wide``: unlimited."""
    if wide:
        return UNLIMITED
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        try:
            return os.get_terminal_size(sys.stdout.fileno()).columns or 80
        except OSError:
            return 80
    return 80


def out(wide: bool = False) -> Console:
    """The console of the command's result: stdout, :func:`width` columns wide."""
    from rich.console import Console

    return Console(file=sys.stdout, width=width(wide), soft_wrap=False, highlight=False)


def print_json(doc: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(doc, default=str) + "\n")


def parse_time(name: str, text: str | None, now: datetime) -> datetime | None:
    """``--NAME``'s value (ISO 8601 or a span back from ``now``), or None when not given."""
    if text is None:
        return None
    from copytrader.core import spans

    try:
        return spans.parse_time(text, now)
    except ValueError as exc:
        raise UsageError(f"--{name}: {exc}") from None


def window(
    since: str | None, until: str | None, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """``--since`` and ``--until`` as times; UsageError when either is bad or ``--since`` is
    after ``--until`` (nothing could match)."""
    start = parse_time("since", since, now)
    end = parse_time("until", until, now)
    if start is not None and end is not None and start > end:
        raise UsageError(
            f"--since {since} ({_iso(start)}) is after --until {until} ({_iso(end)}): "
            "nothing can match; did you swap them?"
        )
    return start, end


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seconds(text: str) -> float:
    """An argparse type: a number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text}")
    return value


def open_store(s: Settings) -> AbstractAsyncContextManager[Reader]:
    """The database of ``s`` (schema at head), closed on exit: for database-only commands."""
    from copytrader.reconcile import wiring

    return wiring.open_reader(s)


async def prefix(
    store: Reader, option: str, given: str | None, table: str, column: str, where: str
) -> str | None:
    """The id ``--OPTION`` names: ``given`` itself or the one id of ``table.column`` that
    starts with it; UsageError naming the problem when none does or several do."""
    if given is None:
        return None
    from copytrader.store import lookup

    found = await lookup.starting_with(store, table, column, given)
    try:
        return resolve(f"{option} {where}", given, found)
    except ValueError as exc:
        raise UsageError(f"--{option}: {exc}") from None


def resolve(what: str, given: str, ids: Iterable[str]) -> str:
    """The id among ``ids`` that is ``given``, or the only one starting with it (a unique
    prefix, as git takes a commit's). ValueError naming the problem otherwise: no match, or
    every match of an ambiguous prefix."""
    known = sorted(set(ids))
    if given in known:
        return given
    matches = [i for i in known if i.startswith(given)] if given else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ValueError(f"no {what} starts with {given!r}")
    more = f" and {len(matches) - 10} more" if len(matches) > 10 else ""
    raise ValueError(
        f"{given!r} is ambiguous: {', '.join(matches[:10])}{more} all start with it; "
        "give more of it"
    )
