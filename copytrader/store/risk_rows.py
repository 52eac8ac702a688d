"""A risk state as a ``risk_states`` row and back (no table models: ``status`` reads the
holds through :mod:`copytrader.store.readside`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from copytrader.core.policy import OnBreach
from copytrader.core.records import Hold, RiskState, Track


def state_row(state: RiskState, now: datetime) -> dict[str, Any]:
    """The risk_states row of ``state``."""
    t, h = state.track, state.hold
    return {
        "master": state.master,
        "follower": state.follower,
        "track_bot": t.bot if t else None,
        "track_since": t.since if t else None,
        "clone_base": t.clone_base if t else None,
        "master_base": t.master_base if t else None,
        "peak": t.peak if t else None,
        "hold_rule": h.rule if h else None,
        "hold_value": h.value if h else None,
        "hold_threshold": h.threshold if h else None,
        "hold_since": h.since if h else None,
        "hold_rules": h.rules if h else None,
        "hold_mode": h.mode.value if h else None,
        "updated_at": now,
    }


def state_of(row: Any) -> RiskState:
    """The :class:`RiskState` of a risk_states row."""
    track = hold = None
    if row["track_since"] is not None:
        track = Track(
            row["track_bot"] or "",
            row["track_since"],
            float(row["clone_base"]),
            float(row["master_base"]),
            float(row["peak"]),
        )
    if row["hold_since"] is not None:
        hold = Hold(
            row["hold_rule"],
            float(row["hold_value"]),
            float(row["hold_threshold"]),
            row["hold_since"],
            row["hold_rules"] or "",
            OnBreach(row["hold_mode"]),
        )
    return RiskState(row["master"], row["follower"], track, hold)
