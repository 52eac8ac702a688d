"""Observe fixtures: the store fixtures of tests/store, and a clean logging state per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from copytrader.observe import logging as obs_logging
from copytrader.observe import redact
from tests.store.conftest import database_url, postgres_admin, postgres_url, store

__all__ = ["database_url", "postgres_admin", "postgres_url", "store"]


@pytest.fixture(autouse=True)
def clean_logging() -> Iterator[None]:
    redact.clear_secrets()
    yield
    obs_logging.close()
    structlog.reset_defaults()
    redact.clear_secrets()
