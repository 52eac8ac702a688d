"""The shared builder of every sub-command's parser, so that each ``--help`` teaches the same
things: what the command does, every option with its default, the environment variables it
reads and its exit codes.

A command module calls :func:`command` (instead of ``sub.add_parser``), then adds its own
arguments; the global options (``--config``) are accepted before or after the command name.
Parse errors are one line on stderr naming the problem (exit 2), with a "did you mean" for a
mistyped command or choice. Nothing heavy is imported here: ``--help`` must start fast.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from copytrader.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE

#: What each environment variable means, as the ``--help`` pages list it.
ENV: Mapping[str, str] = {
    "COPYTRADER_CONFIG": "TOML file of settings, keys in lower case (the same as --config)",
    "COPYTRADER_API_URL": "partner API base URL (required)",
    "COPYTRADER_API_KEY": "partner API key (required, or COPYTRADER_API_KEY_FILE)",
    "COPYTRADER_API_KEY_FILE": "a file holding the partner API key",
    "COPYTRADER_PLATFORM": "haas or botprimex (default haas)",
    "COPYTRADER_ACCOUNTS_FILE": "botprimex: the follower accounts' API keys (TOML)",
    "COPYTRADER_DATABASE_URL": "sqlite:///PATH or postgresql://... (default: SQLite at "
    "$XDG_STATE_HOME/copytrader/copytrader.db, ~/.local/state/copytrader/copytrader.db)",
    "COPYTRADER_POLICY_DIR": "folder of policy files (default policies)",
    "COPYTRADER_RATE_LIMIT_PER_MINUTE": "most partner API requests a minute (default 100)",
    "COPYTRADER_CONCURRENCY": "most partner API requests in flight (default 8)",
    "COPYTRADER_TIMEOUT_SECONDS": "timeout of one partner API request (default 30)",
    "COPYTRADER_INTERVAL_SECONDS": "reconcile period of the daemon (default 60)",
    "COPYTRADER_HTTP_LISTEN": "health, metrics and dashboard address (default 127.0.0.1:8737)",
    "COPYTRADER_HTTP_TOKEN": "bearer token the endpoint needs when not on loopback",
    "COPYTRADER_LEASE_SECONDS": "writer lease length, 5 to 300 (default 15)",
    "COPYTRADER_WRITE_TIMEOUT_SECONDS": "timeout of one platform write (default a third of "
    "the lease)",
    "COPYTRADER_RETENTION_DAYS": "days of per-pass snapshots kept (default 90)",
    "COPYTRADER_SHUTDOWN_TIMEOUT_SECONDS": "how long SIGTERM waits for writes (default 30)",
    "COPYTRADER_NOTIFY_URLS": "comma-separated Apprise URLs notified of events (secrets)",
    "COPYTRADER_WEBHOOK_URL": "a signed JSON POST per notifying event (with the secret)",
    "COPYTRADER_WEBHOOK_SECRET": "the HMAC-SHA256 key of the webhook's signature",
    "COPYTRADER_NOTIFY_EVENTS": "which audit actions notify (default: risk_stop, risk_breach, "
    "duplicate_suspected, policy_invalid, lease_acquired, lease_lost, write_failing, "
    "platform_down)",
    "COPYTRADER_LOG_FORMAT": "json or console (default console on a TTY, else json)",
    "COPYTRADER_LOG_FILE": "write logs to this file instead of stderr",
    "COLUMNS": "width of the tables (default the terminal's, 80 when piped)",
}

#: The variable groups commands read.
CONFIG = ("COPYTRADER_CONFIG",)
LOGS = ("COPYTRADER_LOG_FORMAT", "COPYTRADER_LOG_FILE")
DATABASE = ("COPYTRADER_DATABASE_URL",)
POLICIES = ("COPYTRADER_POLICY_DIR",)
PLATFORM = (
    "COPYTRADER_API_URL",
    "COPYTRADER_API_KEY",
    "COPYTRADER_API_KEY_FILE",
    "COPYTRADER_RATE_LIMIT_PER_MINUTE",
    "COPYTRADER_CONCURRENCY",
    "COPYTRADER_TIMEOUT_SECONDS",
)
TABLES = ("COLUMNS",)
#: A database-only command (status, audit, history).
READ_DATABASE = (*CONFIG, *DATABASE, *LOGS)
#: A command that reads the platform, the policies and the database.
READ_PLATFORM = (*CONFIG, *PLATFORM, *POLICIES, *DATABASE, *LOGS)
#: Where notifications go (a command that writes audit events delivers them).
NOTIFY = (
    "COPYTRADER_NOTIFY_URLS",
    "COPYTRADER_WEBHOOK_URL",
    "COPYTRADER_WEBHOOK_SECRET",
    "COPYTRADER_NOTIFY_EVENTS",
)
#: A command that writes to the platform (holds the writer lease).
WRITE_PLATFORM = (
    *READ_PLATFORM,
    "COPYTRADER_LEASE_SECONDS",
    "COPYTRADER_WRITE_TIMEOUT_SECONDS",
    *NOTIFY,
)

#: What the exit codes mean, for the ``--help`` pages.
USAGE = {EXIT_USAGE: "usage or configuration error (one line on stderr naming it)"}
OK_OR_USAGE = {EXIT_OK: "done", **USAGE}
PLATFORM_EXITS = {
    EXIT_OK: "done",
    EXIT_FAILED: "the platform or the database could not be read",
    **USAGE,
}

class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's and epilog's line breaks, and shows every option's default."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=_help_width())

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        shows = "default" in text or "%(default)" in text
        if (
            not shows
            and default not in (None, False, argparse.SUPPRESS)
            and action.option_strings
            and not isinstance(action, argparse._StoreConstAction | argparse._VersionAction)
        ):
            text += " (default: %(default)s)"
        return text


def _help_width() -> int:
    import os
    import shutil

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return min(int(columns), 100)
    return min(shutil.get_terminal_size((80, 24)).columns, 100)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line naming the problem (exit 2), with a "did
    you mean" when a command or a choice is mistyped. Its description and epilog are
    written out only when help is shown (a command that runs never pays for them)."""

    teach: tuple[str, Iterable[str], Mapping[int, str], Iterable[str], str] | None = None

    def format_help(self) -> str:
        if self.teach is not None:
            description, env, exits, examples, notes = self.teach
            self.description = _reflow(description)
            self.epilog = _epilog(env, exits, examples, notes)
            self.teach = None
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if match:
            given = match.group(1)
            choices = [c.strip().strip("'") for c in match.group(2).split(",")]
            close = difflib.get_close_matches(given, choices, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            message = (
                f"{message[: match.start()]}unknown {given!r}{hint} "
                f"(one of {', '.join(choices)})"
            )
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command accepts before or after its name. After the name they
    default to SUPPRESS, so that a value given before it is kept."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None if top else argparse.SUPPRESS,
        help="TOML file of settings (also COPYTRADER_CONFIG); the environment wins over it",
    )


def _reflow(text: str) -> str:
    """Paragraphs (separated by blank lines) filled to the help width."""
    import textwrap

    width = _help_width() - 2
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    return "\n\n".join(textwrap.fill(p, width) for p in paragraphs if p)


def listing(title: str, rows: list[tuple[str, str]]) -> str:
    """``title:`` then one ``  NAME  meaning`` line per row, the meaning wrapped under itself."""
    import textwrap

    width = max(len(name) for name, _ in rows)
    indent = " " * (width + 4)
    lines = [f"{title}:"]
    for name, meaning in rows:
        first = f"  {name:<{width}}  "
        text = textwrap.fill(
            meaning,
            max(_help_width() - 2, len(first) + 20),
            initial_indent=first,
            subsequent_indent=indent,
        )
        lines.append(text if meaning else first.rstrip())
    return "\n".join(lines)


def _epilog(
    env: Iterable[str], exits: Mapping[int, str], examples: Iterable[str], notes: str
) -> str:
    parts = []
    if notes:
        parts.append(notes.rstrip())
    examples = list(examples)
    if examples:
        parts.append("examples:\n" + "\n".join(f"  {e}" for e in examples))
    names = list(dict.fromkeys(env))
    if names:
        parts.append(listing("environment", [(n, ENV.get(n, "")) for n in names]))
    if exits:
        parts.append(listing("exit codes", [(str(c), t) for c, t in sorted(exits.items())]))
    return "\n\n".join(parts)


def command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    *,
    summary: str,
    description: str = "",
    env: Iterable[str] = (),
    exits: Mapping[int, str] | None = None,
    examples: Iterable[str] = (),
    notes: str = "",
    **kwargs: Any,
) -> argparse.ArgumentParser:
    """A sub-command's parser: ``summary`` is its line in the parent's list, ``description``
    (default: the summary) opens its ``--help``, followed by the options (each with its
    default), then ``notes``, ``examples``, the environment variables in ``env`` and the
    ``exits`` (default: 0 done, 2 usage). The global options are added."""
    parser = sub.add_parser(name, help=summary, formatter_class=Formatter, **kwargs)
    text = description or summary[:1].upper() + summary[1:] + "."
    if isinstance(parser, Parser):
        parser.teach = (text, env, OK_OR_USAGE if exits is None else exits, examples, notes)
    else:  # a parser class of another kind: written out now
        parser.description = _reflow(text)
        parser.epilog = _epilog(env, OK_OR_USAGE if exits is None else exits, examples, notes)
    global_options(parser, top=False)
    parser.set_defaults(prog=parser.prog)
    return parser


def group(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    *,
    summary: str,
    description: str = "",
    dest: str,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """A command with sub-commands of its own (``policy check``, ``db upgrade``): its parser
    and the sub-parsers to add them to with :func:`command`."""
    parser = sub.add_parser(name, help=summary, formatter_class=Formatter)
    parser.description = description or summary[:1].upper() + summary[1:] + "."
    global_options(parser, top=False)
    return parser.add_subparsers(dest=dest, required=True, metavar="SUBCOMMAND")


def table_options(parser: argparse.ArgumentParser, *, json_help: str | None = None) -> None:
    """``--json`` (the machine-readable document) and ``--wide`` (tables with full ids, at
    their natural width) for a command that prints a table."""
    parser.add_argument(
        "--json", action="store_true", help=json_help or "print the JSON document instead"
    )
    parser.add_argument(
        "--wide",
        action="store_true",
        help="full ids and every column, however wide (default: short ids, fit to COLUMNS or "
        "the terminal, 80 columns when piped)",
    )


def stderr_line(text: str) -> None:
    """One line on stderr."""
    sys.stderr.write(text.rstrip("\n") + "\n")
