"""Logging set-up: one structlog chain for copytrader's own events and the libraries' logs.

Lines go to stderr (stdout is reserved for command results) or to a log file created 0600.
Every event passes through the redaction processor before it is rendered, so neither the
API key nor any credential-named field can reach a log line.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import structlog
from structlog.typing import Processor

from copytrader.observe import redact

_state: dict[str, Any] = {"file": None, "handler": None}


def _level_number(level: str | int) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelNamesMapping().get(level.upper())
    if number is None:
        raise ValueError(f"unknown log level {level!r}")
    return number


def _open_log_file(path: Path) -> TextIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8", buffering=1)


def shared_processors() -> list[Processor]:
    """The chain before rendering: context, level, UTC time, formatted traceback, redaction.

    Tracebacks are formatted to text *before* redaction so that they are masked too.
    """
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact.processor,
    ]


def renderer(fmt: str, out: TextIO) -> Processor:
    """JSON lines for ``json``, aligned key=value text for ``console``."""
    if fmt == "json":
        return structlog.processors.JSONRenderer(sort_keys=False)
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=out.isatty())
    raise ValueError(f"unknown log format {fmt!r}: expected json or console")


def configure(
    fmt: str,
    log_file: Path | None = None,
    level: str | int = "info",
    *,
    stream: TextIO | None = None,
) -> None:
    """Send structlog and stdlib logging to ``log_file`` (appended, 0600) or else to stderr.

    ``fmt`` is ``json`` or ``console``; ``stream`` replaces stderr (tests). Calling it again
    replaces the previous configuration and closes its file.
    """
    close()
    number = _level_number(level)
    out = _open_log_file(log_file) if log_file is not None else (stream or sys.stderr)
    if log_file is not None:
        _state["file"] = out
    render = renderer(fmt, out)
    structlog.configure(
        processors=[*shared_processors(), render],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    # Libraries (aiohttp, apscheduler, alembic) log through stdlib logging: same chain.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared_processors()[:3]],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact.processor,
                render,
            ],
        )
    )
    root = logging.getLogger()
    root.addHandler(handler)
    # Libraries' debug chatter stays off even when copytrader logs at debug.
    root.setLevel(max(number, logging.INFO))
    # Alembic narrates every migration check at info: noise on each command.
    logging.getLogger("alembic").setLevel(max(number, logging.WARNING))
    _state["handler"] = handler


def close() -> None:
    """Detach the stdlib handler and close the log file, if any (idempotent)."""
    handler = _state["handler"]
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        _state["handler"] = None
    file = _state["file"]
    if file is not None:
        # Never leave structlog writing to a closed file (nor to stdout, its default).
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
        file.close()
        _state["file"] = None
