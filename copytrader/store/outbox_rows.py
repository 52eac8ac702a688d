"""The outbox rows of audit events: one notification per event that notifies.

Written by :meth:`copytrader.store.base.StoreBase._write_events` in the transaction of the
events themselves, so an event is never on record without its notification, nor the other
way round. The row keeps the exact JSON body a webhook receives (its ``id`` is the row's).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from copytrader.core import notices
from copytrader.core.records import AuditEvent


def encode(doc: dict[str, Any]) -> str:
    """A notification body as compact JSON text (the bytes signed and sent)."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=str)


def rows(wanted: notices.Filter, events: Sequence[AuditEvent]) -> list[dict[str, Any]]:
    """The notifications table rows of the ``events`` that notify, due now."""
    now = datetime.now(UTC)
    out = []
    for event in events:
        if not wanted.wants(event):
            continue
        nid = uuid.uuid4().hex
        out.append(
            {
                "id": nid,
                "created_at": now,
                "action": event.action,
                "run_id": event.run_id,
                "body": encode(notices.body(event, nid)),
                "next_at": now,
                "settled_at": None,
            }
        )
    return out
