"""The audit trail's vocabulary is complete: every action the code writes is in
core/audit_actions.ACTIONS (which ``audit --help`` lists and ``audit --action`` accepts)."""

from __future__ import annotations

import re
from pathlib import Path

from copytrader.core import notices
from copytrader.core.actions import Kind
from copytrader.core.audit_actions import ACTIONS, NOTIFY_DEFAULT

PACKAGE = Path(__file__).resolve().parents[2] / "copytrader"
WRITTEN = re.compile(
    r"""(?:action=|Note\(\s*|_audit\(\s*|AuditEvent\([^)]*?action=)["']([a-z_]+)["']"""
)


def _written() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if "sim" in path.parts:
            continue
        found |= set(WRITTEN.findall(path.read_text(encoding="utf-8")))
    return found - {"store_true", "version", "append", "count", "store"}


def test_every_action_written_is_in_the_vocabulary() -> None:
    written = _written()
    assert len(written) >= 15, written  # the scan finds them
    assert written <= set(ACTIONS), written - set(ACTIONS)
    assert {k.value for k in Kind} <= set(ACTIONS)


def test_notifications_name_the_same_vocabulary() -> None:
    assert set(ACTIONS) == notices.AUDIT_ACTIONS
    assert set(NOTIFY_DEFAULT) <= set(ACTIONS)
    assert all(ACTIONS.values())
