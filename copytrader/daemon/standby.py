"""``/healthz`` of a standby: healthy while it sees the database, naming the leader it sees."""

from __future__ import annotations

import asyncio
from typing import Any

from copytrader.errors import CopytraderError
from copytrader.reconcile.leadership import Leadership
from copytrader.store.lease import short


async def health(leadership: Leadership | None, *, db_ok: bool, stopping: bool,
                 ask_within: float) -> tuple[bool, dict[str, Any]]:
    """``(healthy, document)`` of a standby: who leads and until when, as the database says
    (asked within ``ask_within`` seconds); unhealthy while stopping or without the database."""
    doc: dict[str, Any] = {"role": "standby", "status": "ok", "leader": None}
    if db_ok and leadership is not None:
        try:
            holding = await asyncio.wait_for(leadership.holder(), ask_within)
        except (CopytraderError, TimeoutError):
            db_ok = False
        else:
            doc["leader"] = short(holding.holder) if holding else None
            doc["leader_lease_ends_in_seconds"] = (
                round(holding.expires_in, 1)
                if holding and holding.expires_in is not None
                else None
            )
    if stopping:
        doc.update(status="unhealthy", reason="stopping")
    elif not db_ok:
        doc.update(status="unhealthy", reason="database unreachable")
    return doc["status"] == "ok", doc
