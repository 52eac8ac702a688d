"""HTML from the package's Jinja2 templates (the one home of ``jinja2``).

Autoescaping is on for every template and undefined names are errors, so every value from
the platform, a policy file or the audit trail (bot names, settings, error messages) reaches
the page as text. URLs are built with :func:`path_part` (percent-encoding each id).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2

from copytrader.core import words

STATIC_DIR = Path(__file__).resolve().parent / "static"


def percent(value: float | None, digits: int = 2) -> str:
    """``12.34 %``, ``-0.50 %``, or an em dash for no value."""
    if value is None:
        return "—"
    return f"{value:.{digits}f} %"


def points(value: float | None, digits: int = 2) -> str:
    """A signed difference in percentage points: ``+1.20 pp``, ``-0.30 pp``, or a dash."""
    if value is None:
        return "—"
    return f"{value:+.{digits}f} pp"


def when(value: str | datetime | None) -> str:
    """An ISO 8601 time as ``2025-06-01 12:00:03 UTC`` (a dash for none)."""
    if value is None:
        return "—"
    ts = value if isinstance(value, datetime) else datetime.fromisoformat(
        value.replace("Z", "+00:00"))
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def path_part(value: object) -> str:
    """``value`` percent-encoded as one URL path segment."""
    return quote(str(value), safe="")


def query(params: dict[str, Any], **changes: Any) -> str:
    """``?a=1&b=2`` from ``params`` with ``changes`` applied (None drops a key)."""
    merged = {**params, **changes}
    kept = {k: v for k, v in merged.items() if v is not None and v != ""}
    return "?" + urlencode(kept) if kept else "?"


def short(value: str | None, n: int = 8) -> str:
    return "" if not value else value[:n]


def value(v: object) -> str:
    """A setting value as text: booleans lower case, None as a dash."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return words.number(v)  # no float noise (0.30000000000000004)
    return str(v)


@cache
def asset_version() -> str:
    """A short hash of every static file: part of their URLs, so a new release is fetched."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def asset(name: str) -> str:
    """The URL of a static file, with its version."""
    return f"/static/{name}?v={asset_version()}"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("copytrader.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(percent=percent, points=points, when=when, iso=iso, path=path_part,
                       short=short, value=value)
    env.globals.update(asset=asset, query=query)
    return env


def html(template: str, **context: Any) -> str:
    """``template`` rendered with ``context``."""
    return environment().get_template(template).render(**context)
