"""Which audit events notify a person, and what a notification says (pure).

A notification is the audit event itself, as the signed webhook's JSON body
(:func:`body`) or a short human message for chat and e-mail sinks (:func:`message`).
``COPYTRADER_NOTIFY_EVENTS`` names the audit actions that notify (:func:`parse`); a
``recovered`` event notifies when the episode it ends (``write_failing``,
``platform_down``) does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from copytrader.core import audit_actions
from copytrader.core.records import AuditEvent

#: ``COPYTRADER_NOTIFY_EVENTS`` when it is not set.
DEFAULT_EVENTS = audit_actions.NOTIFY_DEFAULT

#: Episodes: audited once when they begin, and ``recovered`` (naming them) when they end.
EPISODES = ("write_failing", "platform_down")

#: Every audit action copytrader writes (what ``COPYTRADER_NOTIFY_EVENTS`` may name): the
#: audit trail's vocabulary, :mod:`copytrader.core.audit_actions`.
AUDIT_ACTIONS = frozenset(audit_actions.ACTIONS)

#: The longest human message (chat sinks cut or refuse long ones), and the longest free
#: text (a detail, an error) in it.
MESSAGE_LIMIT = 600
TEXT_LIMIT = 240


def parse(text: str | None) -> frozenset[str]:
    """The actions named by a comma-separated list (None or blank: :data:`DEFAULT_EVENTS`).
    ValueError naming every unknown name."""
    if text is None or not text.strip():
        return frozenset(DEFAULT_EVENTS)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = sorted({n for n in names if n not in AUDIT_ACTIONS})
    if unknown:
        known = ", ".join(sorted(AUDIT_ACTIONS))
        raise ValueError(f"unknown audit action(s) {', '.join(unknown)}; known: {known}")
    return frozenset(names)


@dataclass(frozen=True)
class Filter:
    """The audit actions that notify."""

    actions: frozenset[str]

    @classmethod
    def of(cls, names: Iterable[str]) -> Filter:
        return cls(frozenset(names))

    def wants(self, event: AuditEvent) -> bool:
        """Whether ``event`` notifies: its action is named (a write once its outcome is
        known, never while ``pending``), or it is the ``recovered`` of a named episode."""
        if event.outcome == "pending":
            return False
        if event.action in self.actions:
            return True
        return event.action == "recovered" and any(k in self.actions for k in event.changes)


def body(event: AuditEvent, notification_id: str) -> dict[str, Any]:
    """The signed webhook's JSON body of ``event`` (the contract's ten fields)."""
    return {
        "id": notification_id,
        "ts": event.ts.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "action": event.action,
        "master": event.master,
        "follower": event.follower,
        "bot": event.bot,
        "changes": {k: [before, after] for k, (before, after) in event.changes.items()},
        "outcome": event.outcome,
        "error": event.error,
        "detail": event.detail,
    }


_HEADLINES = {
    "risk_stop": "a clone was stopped by a risk guard",
    "risk_breach": "a clone broke a risk guard (notify only)",
    "risk_resume": "a risk-stopped clone was resumed",
    "duplicate_suspected": "a suspected duplicate bot",
    "policy_invalid": "a policy file is invalid",
    "lease_acquired": "this copytrader took the writer lease",
    "lease_lost": "copytrader lost the writer lease",
    "write_failing": "a follower's writes keep failing",
    "platform_down": "the platform cannot be read",
    "recovered": "recovered",
}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message(doc: dict[str, Any]) -> tuple[str, str]:
    """A title and a short text for a person, from a :func:`body` document."""
    action = str(doc.get("action"))
    title = f"copytrader: {_HEADLINES.get(action, action)}"
    who = [
        f"{name} {doc[key]}"
        for name, key in (("master", "master"), ("follower", "follower"), ("bot", "bot"))
        if doc.get(key)
    ]
    lines = [", ".join(who)] if who else []
    changes = doc.get("changes") or {}
    if changes and action != "recovered":
        risk = action.startswith("risk_")
        pairs = [f"{k}: {_pair(v, risk)}" for k, v in changes.items() if isinstance(v, list)]
        lines.append("; ".join(pairs))
    for key in ("detail", "error"):
        if doc.get(key):
            lines.append(_short(str(doc[key]), TEXT_LIMIT))
    body = _short("\n".join(line for line in lines if line), MESSAGE_LIMIT - 60)
    return title, f"{body}\nat {doc.get('ts')} (event {doc.get('id')})"


def _pair(value: list[Any], risk: bool) -> str:
    if len(value) != 2:
        return str(value)
    return f"{value[0]} (threshold {value[1]})" if risk else f"{value[0]} -> {value[1]}"
