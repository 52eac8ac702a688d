"""Risk guards: a follower's clone is stopped (or its breach announced) when its ROI breaks
the follower's ``risk:`` rules. Pure: :func:`judge` takes what one pass read and what the
store remembers of the link (:class:`RiskState`) and returns what to remember next, the note
to audit with it, and whether the clone is held stopped.

The measures, all in percent of the clone's own ROI as the platform reports it:

- ``min_roi_pct``: the ROI is below the threshold;
- ``max_drawdown_pct``: the ROI fell more than the threshold below its peak since the clone
  last started (peak 10, now 4: a drawdown of 6 points);
- ``max_tracking_gap_pct``: ``|clone ROI gain - master ROI gain|`` since the clone started is
  above the threshold. A new clone starts at ROI 0, so its gain is its ROI.

A clone is measured while it runs. What "since it last started" means is a :class:`Track`
taken from the sweep of the pass that starts it (or, for a clone already running, the first
pass that guards it) and dropped when the clone stops.

On a breach under ``on_breach: stop`` the link is **held** (:class:`Hold`): the clone is kept
stopped whatever the master does, across passes and restarts, until a person resumes it (the
store clears the hold) or the follower's risk values change (the hold's fingerprint no
longer matches; audited ``risk_resume``). Under ``on_breach: notify`` the breach is announced
once (``risk_breach``) and again only after it has ended and come back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from copytrader.core.actions import Note
from copytrader.core.diff import Change
from copytrader.core.model import Bot, Status
from copytrader.core.policy import RISK_RULES, OnBreach, RiskRules
from copytrader.core.records import Hold, RiskState, Track

__all__ = ["Hold", "RiskState", "Track", "Verdict", "breach", "held_note", "judge", "measure"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """One link's risk decision in one pass.

    ``state``: what to remember (store it when it differs from what was read); ``event``: the
    note to audit in the same transaction (``risk_stop``, ``risk_breach`` or ``risk_resume``);
    ``held``: the HELD ``risk_stop`` note while the clone is held stopped (every pass);
    ``reason``: why it is held (the stop action's reason), None when it is not.
    """

    before: RiskState | None
    state: RiskState
    event: Note | None = None
    held: Note | None = None
    reason: str | None = None

    @property
    def changed(self) -> bool:
        """True when the store must be written (a new state, or an event to record)."""
        before = self.before or RiskState(self.state.master, self.state.follower)
        return self.event is not None or before != self.state


def number(value: float) -> float:
    """``value`` rounded for reading (4 decimals), an int when whole: ``-25`` not ``-25.0``."""
    rounded = round(value, 4)
    return int(rounded) if rounded == int(rounded) else rounded


def measure(rule: str, roi: float, track: Track, master_roi: float) -> float:
    """The value of ``rule`` for a running clone at ``roi`` (see the module docstring)."""
    if rule == "min_roi_pct":
        return roi
    if rule == "max_drawdown_pct":
        return track.peak - roi
    return abs((roi - track.clone_base) - (master_roi - track.master_base))


def breach(
    rules: RiskRules, roi: float, track: Track, master_roi: float
) -> tuple[str, float] | None:
    """The first rule (in :data:`RISK_RULES` order) ``roi`` breaks, with its measured value."""
    for rule in RISK_RULES:
        threshold = rules.threshold(rule)
        if threshold is None:
            continue
        value = measure(rule, roi, track, master_roi)
        broken = value < threshold if rule == "min_roi_pct" else value > threshold
        if broken:
            return rule, number(value)
    return None


def _note(
    action: str, hold: Hold, master: str, follower: str, bot: str | None, detail: str
) -> Note:
    changes = MappingProxyType({hold.rule: Change(hold.value, hold.threshold)})
    return Note(action, master, follower, bot, changes, detail=detail)


def held_note(hold: Hold, master: str, follower: str, bot: str | None) -> Note:
    """The HELD ``risk_stop`` note of a stop hold: why, since when, and how to resume."""
    since = hold.since.isoformat(timespec="seconds").replace("+00:00", "Z")
    return _note(
        "risk_stop",
        hold,
        master,
        follower,
        bot,
        f"{hold.describe()}; clone stopped since {since} and kept stopped until "
        f"`copytrader resume {master} {follower}` or a change of this follower's risk values",
    )


def _start(bot: str, now: datetime, clone_roi: float, master_roi: float) -> Track:
    return Track(bot, now, clone_roi, master_roi, clone_roi)


def judge(
    rules: RiskRules,
    before: RiskState | None,
    *,
    master: Bot,
    follower: str,
    clone: Bot | None,
    want: Status | None,
    now: datetime,
) -> Verdict:
    """The risk decision for ``follower``'s clone of ``master`` this pass.

    ``clone`` is the clone as swept (None: none yet), ``want`` the desired status before any
    hold (a stopped clone that will be started gets a new :class:`Track` now).
    """
    m, bot = master.bot_id, clone.bot_id if clone else None
    hold = before.hold if before else None
    track = before.track if before else None
    event: Note | None = None
    if hold is not None and hold.rules != rules.fingerprint():
        if hold.mode is OnBreach.STOP:
            event = _note(
                "risk_resume",
                hold,
                m,
                follower,
                bot,
                f"the follower's risk values changed: the hold ({hold.describe()}) is lifted",
            )
        hold, track = None, None
    if hold is not None and hold.mode is OnBreach.STOP:
        reason = f"risk guard: {hold.describe()}"
        state = RiskState(m, follower, None, hold)
        return Verdict(before, state, event, held_note(hold, m, follower, bot), reason)
    if not rules.any:
        return Verdict(before, RiskState(m, follower), event)
    starting = want is Status.RUNNING
    if clone is None:  # a clone made (and started) this pass starts at ROI 0
        track = _start("", now, 0.0, master.roi) if starting else None
        return Verdict(before, RiskState(m, follower, track, hold), event)
    if clone.status is Status.STOPPED:
        track = _start(clone.bot_id, now, clone.roi, master.roi) if starting else None
        return Verdict(before, RiskState(m, follower, track, hold), event)
    if clone.status is not Status.RUNNING:
        return Verdict(before, RiskState(m, follower, track, hold), event)
    if track is None or (track.bot and track.bot != clone.bot_id):
        track = _start(clone.bot_id, now, clone.roi, master.roi)
    track = dataclasses.replace(track, bot=clone.bot_id, peak=max(track.peak, clone.roi))
    found = breach(rules, clone.roi, track, master.roi)
    if found is None:
        return Verdict(before, RiskState(m, follower, track, None), event)
    rule, value = found
    threshold = rules.threshold(rule)
    assert threshold is not None
    if rules.action is OnBreach.NOTIFY:
        if hold is None or hold.rule != rule:
            hold = Hold(rule, value, threshold, now, rules.fingerprint(), OnBreach.NOTIFY)
            event = _note(
                "risk_breach", hold, m, follower, bot, f"{hold.describe()}; on_breach: notify"
            )
        return Verdict(before, RiskState(m, follower, track, hold), event)
    hold = Hold(rule, value, threshold, now, rules.fingerprint(), OnBreach.STOP)
    event = _note(
        "risk_stop",
        hold,
        m,
        follower,
        bot,
        f"{hold.describe()}; on_breach: stop: the clone is stopped and kept stopped until "
        f"`copytrader resume {m} {follower}` or a change of this follower's risk values",
    )
    note = held_note(hold, m, follower, bot)
    return Verdict(
        before, RiskState(m, follower, None, hold), event, note, f"risk guard: {hold.describe()}"
    )
