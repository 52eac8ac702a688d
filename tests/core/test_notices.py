"""core/notices.py: which events notify, the webhook body, the message for a person."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from copytrader.core import notices
from copytrader.core.records import AuditEvent
from tests.core.factories import T0


def event(action: str, outcome: str = "noted", **changes: tuple[object, object]) -> AuditEvent:
    return AuditEvent(
        ts=T0, run_id="r1", action=action, master="M", follower="F", bot="B",
        changes=MappingProxyType(changes), outcome=outcome, detail="why",
    )  # fmt: skip


def test_the_default_list_is_the_contracts() -> None:
    assert (
        notices.parse(None)
        == notices.parse("  ")
        == frozenset(
            [
                "risk_stop",
                "risk_breach",
                "duplicate_suspected",
                "policy_invalid",
                "lease_acquired",
                "lease_lost",
                "write_failing",
                "platform_down",
            ]
        )
    )
    assert notices.parse("stop, risk_stop,") == {"stop", "risk_stop"}


def test_unknown_names_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"unknown audit action\(s\) risk_stops, stp;"):
        notices.parse("stp,risk_stops,risk_stop")


@pytest.mark.parametrize(
    ("names", "e", "wanted"),
    [
        ("risk_stop", event("risk_stop"), True),
        ("risk_stop", event("risk_breach"), False),
        ("stop", event("stop", "pending"), False),  # a write notifies once its outcome is in
        ("stop", event("stop", "ok"), True),
        ("stop", event("stop", "unknown"), True),
        ("write_failing", event("recovered", "ok", write_failing=(3, 0)), True),
        ("platform_down", event("recovered", "ok", write_failing=(3, 0)), False),
        ("recovered", event("recovered", "ok", platform_down=(4, 0)), True),
    ],
)
def test_filter(names: str, e: AuditEvent, wanted: bool) -> None:
    assert notices.Filter(notices.parse(names)).wants(e) is wanted


def test_body_has_the_contracts_ten_fields() -> None:
    doc = notices.body(event("risk_stop", min_roi_pct=(-25, -20)), "abc")
    assert list(doc) == [
        "id", "ts", "action", "master", "follower", "bot", "changes", "outcome", "error", "detail",
    ]  # fmt: skip
    assert doc["id"] == "abc" and doc["ts"] == "2026-11-01T12:00:00Z"
    assert doc["changes"] == {"min_roi_pct": [-25, -20]}


def test_message_is_short_and_says_what_happened() -> None:
    title, text = notices.message(notices.body(event("risk_stop", min_roi_pct=(-25, -20)), "i"))
    assert title == "copytrader: a clone was stopped by a risk guard"
    assert "master M, follower F, bot B" in text
    assert "min_roi_pct: -25 (threshold -20)" in text and "why" in text
    long = notices.body(event("policy_invalid"), "i") | {"error": "x" * 5000}
    assert len(notices.message(long)[1]) <= notices.MESSAGE_LIMIT
