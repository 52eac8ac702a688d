"""Debian's Chromium driven by Playwright for Python, for the dashboard's browser tests.

Never ``playwright install``: the browser is ``/usr/bin/chromium`` (``.ci/run`` installs the
Debian package when missing), or ``COPYTRADER_TEST_CHROMIUM``. Without either, or without the
``playwright`` package, the browser tests skip.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    """The browser's path, or skip the calling test module."""
    found = os.environ.get("COPYTRADER_TEST_CHROMIUM") or shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not found or not Path(found).exists():
        pytest.skip("no Chromium (apt-get install chromium, or set COPYTRADER_TEST_CHROMIUM)",
                    allow_module_level=True)
    return found


@dataclass
class Traffic:
    """Every request a page made and everything it complained about."""

    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def foreign(self, origins: set[str]) -> list[str]:
        """Requests to any origin not in ``origins`` (``scheme://host:port``)."""
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "about", "blob"):
                continue
            if f"{parts.scheme}://{parts.netloc}" not in origins:
                out.append(url)
        return out
