"""The shipped operator files: ``deploy/prometheus/alerts.yml`` and the Grafana dashboard.

The rules pass ``promtool check rules`` and their unit tests (``promtool test rules``) where
promtool is installed (``.ci/run`` installs it); every metric they and the dashboard name is
exported by a running daemon's ``/metrics`` (a real ``copytrader run`` subprocess)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.daemon.conftest import ROOT, wait_for

RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "copytrader.json"
_METRIC = re.compile(r"\bcopytrader_[a-z_]+\b")
_SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")


def promtool() -> str | None:
    """promtool on PATH, or the one ``.ci/run`` puts in the virtual environment."""
    found = shutil.which("promtool")
    local = ROOT / ".venv" / "bin" / "promtool"
    return found or (str(local) if os.access(local, os.X_OK) else None)


def rule_exprs() -> list[str]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule["expr"] for group in doc["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]


def test_every_rule_is_complete() -> None:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    rules = [rule for group in doc["groups"] for rule in group["rules"]]
    names = {r["alert"] for r in rules}
    assert {
        "CopytraderNoLeader",
        "CopytraderPassesAborted",
        "CopytraderPassesFailing",
        "CopytraderLastPassTooOld",
        "CopytraderClonesDrifted",
        "CopytraderRiskStopped",
        "CopytraderSuspectedDuplicates",
        "CopytraderNotificationBacklog",
    } <= names
    for r in rules:
        assert r["labels"]["severity"] in ("critical", "warning"), r["alert"]
        assert r["annotations"]["summary"] and r["annotations"]["description"], r["alert"]


def test_the_dashboard_is_grafana_json_over_a_datasource_variable() -> None:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert doc["uid"] == "copytrader-overview" and doc["panels"]
    variables = {v["name"] for v in doc["templating"]["list"]}
    assert "datasource" in variables
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    for p in doc["panels"]:
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${datasource}" and p["targets"], p["title"]


def test_promtool_checks_the_rules_and_runs_their_unit_tests() -> None:
    tool = promtool()
    if tool is None:
        pytest.skip("promtool is not installed (Debian package prometheus; .ci/run adds it)")
    checked = subprocess.run(
        [tool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [tool, "test", "rules", RULE_TESTS.name],
        cwd=RULE_TESTS.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


async def test_every_metric_named_is_exported_by_a_running_daemon(start_daemon) -> None:
    named = {m for expr in [*rule_exprs(), *dashboard_exprs()] for m in _METRIC.findall(expr)}
    assert len(named) >= 15
    d = await start_daemon(
        COPYTRADER_WEBHOOK_URL="http://127.0.0.1:9/hook",
        COPYTRADER_WEBHOOK_SECRET="a-long-enough-test-secret",
    )

    async def exported() -> str | None:
        got = await d.get_or_none("/metrics")
        # per-master gauges appear once a pass has recorded the masters
        return got[1] if got and got[0] == 200 and "copytrader_risk_stopped{" in got[1] else None

    text = await wait_for(exported, "/metrics with the per-master gauges")
    families = {f.name: {s.name for s in f.samples} for f in text_string_to_metric_families(text)}
    missing = []
    for name in sorted(named):
        base = next((name.removesuffix(s) for s in _SUFFIXES if name.endswith(s)), name)
        family = families.get(base, families.get(name))
        # a labelled counter never incremented yet has no sample, only its family
        if family is None or (family and name not in family):
            missing.append(name)
    assert missing == [], f"named in the rules or the dashboard but not exported: {missing}"
    await d.stop()
