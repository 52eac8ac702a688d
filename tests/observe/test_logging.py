"""configure(): JSON or console lines on stderr or a 0600 file, redacted, stdlib included."""

from __future__ import annotations

import io
import json
import logging
import stat
from pathlib import Path

import pytest
import structlog

from copytrader.observe import logging as obs_logging
from copytrader.observe import redact


def test_json_lines_with_level_utc_time_and_context() -> None:
    out = io.StringIO()
    obs_logging.configure("json", stream=out)
    structlog.contextvars.bind_contextvars(run_id="r1")
    try:
        structlog.get_logger().info("pass_done", actions=3)
        structlog.get_logger().debug("hidden")
    finally:
        structlog.contextvars.clear_contextvars()
    [line] = out.getvalue().splitlines()
    doc = json.loads(line)
    assert doc["event"] == "pass_done" and doc["actions"] == 3 and doc["run_id"] == "r1"
    assert doc["level"] == "info"
    assert doc["timestamp"].endswith("Z")


def test_secrets_never_reach_the_rendered_line_even_in_a_traceback() -> None:
    out = io.StringIO()
    redact.register_secret("the-api-key-42")
    obs_logging.configure("json", stream=out)
    log = structlog.get_logger()
    log.info("request", headers={"X-API-Key": "the-api-key-42"}, note="k=the-api-key-42")
    try:
        raise RuntimeError("refused key the-api-key-42")
    except RuntimeError:
        log.exception("boom")
    text = out.getvalue()
    assert "the-api-key-42" not in text
    first, second = (json.loads(line) for line in text.splitlines())
    assert first["headers"] == {"X-API-Key": "***"} and first["note"] == "k=***"
    assert "RuntimeError: refused key ***" in second["exception"]


def test_console_format_is_redacted_too() -> None:
    out = io.StringIO()
    redact.register_secret("console-secret")
    obs_logging.configure("console", stream=out)
    structlog.get_logger().warning("hello", password="pw", extra="console-secret")
    text = out.getvalue()
    assert "hello" in text and "warn" in text
    assert "pw" not in text.replace("password", "") and "console-secret" not in text


def test_stdlib_logging_goes_through_the_same_chain() -> None:
    out = io.StringIO()
    redact.register_secret("lib-secret-1")
    obs_logging.configure("json", stream=out)
    logging.getLogger("aiohttp.client").warning("retrying with %s", "lib-secret-1")
    doc = json.loads(out.getvalue().splitlines()[-1])
    assert doc["event"] == "retrying with ***"
    assert doc["logger"] == "aiohttp.client" and doc["level"] == "warning"


def test_log_file_is_created_0600_and_appended(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "copytrader.log"
    obs_logging.configure("json", log_file=path)
    structlog.get_logger().info("one")
    obs_logging.configure("json", log_file=path)
    structlog.get_logger().info("two")
    obs_logging.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [json.loads(x)["event"] for x in path.read_text().splitlines()] == ["one", "two"]


def test_bad_format_or_level_is_refused() -> None:
    with pytest.raises(ValueError, match="log format"):
        obs_logging.configure("xml", stream=io.StringIO())
    with pytest.raises(ValueError, match="log level"):
        obs_logging.configure("json", level="chatty", stream=io.StringIO())
