"""What every command shares: its settings, its stdout console, and its input parsers.

stdout carries only a command's result (a table, or the ``--json`` document); logs and
progress go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from copytrader.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

    from copytrader.settings import Settings


def load_settings(args: argparse.Namespace, *, platform: bool) -> Settings:
    """The settings of this command (``platform``: it needs the partner API), with the API
    key, every follower account's key, the webhook token, and the notification URLs and
    secret registered as secrets, and logging configured."""
    from copytrader import settings as settings_mod
    from copytrader.observe import logging as obs_logging
    from copytrader.observe import redact

    s = settings_mod.load(config_file=args.config, require_platform=platform)
    for key in (s.platform.api_key, *s.platform.accounts.values(), s.daemon.webhook_token):
        if key:
            redact.register_secret(key.reveal())
    for secret in s.notify.secrets():  # the notification URLs and the webhook secret
        redact.register_secret(secret)
    obs_logging.configure(s.log_format, s.log_file)
    return s


def out() -> Console:
    """The console of the command's result: stdout, wide enough that piped tables are not cut."""
    from rich.console import Console

    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200, soft_wrap=False)


def print_json(doc: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(doc, default=str) + "\n")


def parse_time(name: str, text: str | None, now: datetime) -> datetime | None:
    """``--NAME``'s value (ISO 8601 or a span back from ``now``), or None when not given."""
    if text is None:
        return None
    from copytrader.store import queries

    try:
        return queries.parse_time(text, now)
    except ValueError as exc:
        raise ConfigError(f"--{name}: {exc}") from None


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
        raise ValueError(f"no {what} matches {given!r}")
    raise ValueError(f"{what} prefix {given!r} is ambiguous: {', '.join(matches)}")
