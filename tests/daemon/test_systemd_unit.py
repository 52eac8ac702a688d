"""The shipped unit file: systemd-analyze accepts it, and it keeps its promises."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from copytrader import settings

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "copytrader.service"
ENV_EXAMPLE = ROOT / "systemd" / "copytrader.env.example"


def _unit() -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    # verify insists that ExecStart's binary exists: point it at this venv's console script.
    exe = Path(sys.executable).parent / "copytrader"
    if not exe.exists():
        pytest.skip(f"no console script at {exe}")
    text = UNIT.read_text(encoding="utf-8")
    assert "ExecStart=/usr/local/bin/copytrader run" in text
    unit = tmp_path / "copytrader.service"
    unit.write_text(text.replace("/usr/local/bin/copytrader", str(exe)), encoding="utf-8")
    proc = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, check=False)
    # Unknown keys and bad values are only warnings (exit 0): any line naming the unit fails.
    complaints = [line for line in (proc.stdout + proc.stderr).splitlines()
                  if "copytrader" in line]
    assert proc.returncode == 0, proc.stderr
    assert complaints == []


def test_unit_promises() -> None:
    keys = _unit()
    single = {k: v[-1] for k, v in keys.items()}
    assert single["Type"] == "notify" and single["NotifyAccess"] == "main"
    assert single["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert "copytrader-api-key:/etc/copytrader/api-key" in keys["LoadCredential"]
    # The webhook token is optional: its credential has an (empty) default.
    assert "copytrader-webhook-token:/etc/copytrader/webhook-token" in keys["LoadCredential"]
    assert keys["SetCredential"] == ["copytrader-webhook-token:\\n"]
    assert "COPYTRADER_DATABASE_URL=sqlite:////var/lib/copytrader/copytrader.db" in keys[
        "Environment"]
    assert single["StateDirectory"] == "copytrader" and single["DynamicUser"] == "yes"
    assert single["CapabilityBoundingSet"] == "" and single["UMask"] == "0077"
    for key in ("WatchdogSec", "TimeoutStopSec"):
        assert int(single[key]) > 0
    # The stop timeout leaves room for the daemon's own shutdown timeout.
    assert int(single["TimeoutStopSec"]) > settings.DaemonSettings().shutdown_timeout_seconds
    for key in ("ProtectSystem", "ProtectHome", "PrivateTmp", "NoNewPrivileges",
                "PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules",
                "ProtectKernelLogs", "ProtectControlGroups", "RestrictNamespaces",
                "LockPersonality", "MemoryDenyWriteExecute", "SystemCallFilter",
                "RestrictAddressFamilies"):
        assert key in single, key


def test_env_example_lists_every_setting_and_no_key() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    names = {line.lstrip("#").split("=", 1)[0] for line in text.splitlines()
             if line.lstrip("#").startswith("COPYTRADER_") and "=" in line}
    expected = {"COPYTRADER_API_URL", "COPYTRADER_DATABASE_URL", "COPYTRADER_POLICY_DIR",
                "COPYTRADER_INTERVAL_SECONDS", "COPYTRADER_RATE_LIMIT_PER_MINUTE",
                "COPYTRADER_CONCURRENCY", "COPYTRADER_TIMEOUT_SECONDS", "COPYTRADER_LOG_FORMAT",
                "COPYTRADER_LOG_FILE", "COPYTRADER_HTTP_LISTEN", "COPYTRADER_HTTP_TOKEN",
                "COPYTRADER_RETENTION_DAYS", "COPYTRADER_SHUTDOWN_TIMEOUT_SECONDS"}
    assert expected <= names
    assert "COPYTRADER_API_KEY" not in names and "COPYTRADER_API_KEY_FILE" not in names
    # Every uncommented line is one the settings loader accepts.
    env = {}
    for line in text.splitlines():
        if line.startswith("COPYTRADER_"):
            key, value = line.split("=", 1)
            env[key] = value
    loaded = settings.load(env, require_platform=False)
    assert loaded.platform.api_url == env["COPYTRADER_API_URL"]


def test_unit_parses_as_ini() -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    assert parser.sections() == ["Unit", "Service", "Install"]
