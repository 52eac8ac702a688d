"""core/risk.py: the risk guard's decision from plain tables of cases (no I/O)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from copytrader.core import risk
from copytrader.core.model import Bot, Status
from copytrader.core.policy import OnBreach, RiskRules
from copytrader.core.records import Hold, RiskState, Track
from tests.core.factories import T0, bot

M, F, C = "M", "F", "C"
STOP = RiskRules(min_roi_pct=-20, max_drawdown_pct=5, max_tracking_gap_pct=10)
NOTIFY = dataclasses.replace(STOP, on_breach=OnBreach.NOTIFY)
NOW = T0 + timedelta(hours=1)


def master(roi: float = 0.0) -> Bot:
    return dataclasses.replace(bot(M, "owner"), roi=roi)


def clone(roi: float, status: Status = Status.RUNNING, bot_id: str = C) -> Bot:
    return dataclasses.replace(bot(bot_id, F, status=status), roi=roi)


def track(clone_base: float = 0.0, master_base: float = 0.0, peak: float = 0.0) -> Track:
    return Track(C, T0, clone_base, master_base, peak)


def hold(
    rule: str = "min_roi_pct", rules: RiskRules = STOP, mode: OnBreach = OnBreach.STOP
) -> Hold:
    return Hold(rule, -25, -20, T0, rules.fingerprint(), mode)


def judge(
    rules: RiskRules,
    before: RiskState | None,
    c: Bot | None,
    m: Bot | None = None,
    want: Status | None = Status.RUNNING,
) -> risk.Verdict:
    return risk.judge(rules, before, master=m or master(), follower=F, clone=c, want=want, now=NOW)


def state(t: Track | None = None, h: Hold | None = None) -> RiskState:
    return RiskState(M, F, t, h)


# (id, rules, stored state, clone, master ROI, expected: event action, its changes, held?)
CASES = [
    ("within every rule", STOP, state(track()), clone(-3), 0.0, None, None, False),
    (
        "roi below min",
        STOP,
        state(track()),
        clone(-25),
        0.0,
        "risk_stop",
        {"min_roi_pct": (-25, -20)},
        True,
    ),
    (
        "roi exactly at min is no breach",
        STOP,
        state(track(clone_base=-20, peak=-20)),
        clone(-20),
        0.0,
        None,
        None,
        False,
    ),
    (
        "drawdown from the stored peak",
        STOP,
        state(track(peak=10)),
        clone(4),
        0.0,
        "risk_stop",
        {"max_drawdown_pct": (6, 5)},
        True,
    ),
    ("drawdown within", STOP, state(track(peak=10)), clone(5.5), 0.0, None, None, False),
    (
        "a new high is the new peak, no breach",
        STOP,
        state(track(peak=3)),
        clone(8),
        8.0,
        None,
        None,
        False,
    ),
    (
        "gap against the master's gain since start",
        STOP,
        state(track(master_base=30)),
        clone(0),
        41.0,
        "risk_stop",
        {"max_tracking_gap_pct": (11, 10)},
        True,
    ),
    (
        "clone gain measured from its base",
        STOP,
        state(track(clone_base=-5, master_base=30, peak=-5)),
        clone(-4),
        35.0,
        None,
        None,
        False,
    ),
    (
        "min roi comes before drawdown",
        STOP,
        state(track(peak=10)),
        clone(-30),
        0.0,
        "risk_stop",
        {"min_roi_pct": (-30, -20)},
        True,
    ),
    (
        "notify audits a breach, never holds",
        NOTIFY,
        state(track()),
        clone(-25),
        0.0,
        "risk_breach",
        {"min_roi_pct": (-25, -20)},
        False,
    ),
    (
        "notify: the same breach again is not announced",
        NOTIFY,
        state(track(), hold(rules=NOTIFY, mode=OnBreach.NOTIFY)),
        clone(-26),
        0.0,
        None,
        None,
        False,
    ),
    (
        "a stop hold stays whatever the roi",
        STOP,
        state(None, hold()),
        clone(50, Status.STOPPED),
        0.0,
        None,
        None,
        True,
    ),
    (
        "changed values lift the hold",
        RiskRules(min_roi_pct=-30),
        state(None, hold()),
        clone(-25, Status.STOPPED),
        0.0,
        "risk_resume",
        {"min_roi_pct": (-25, -20)},
        False,
    ),
    (
        "rules removed lift the hold",
        RiskRules(),
        state(None, hold()),
        clone(-25, Status.STOPPED),
        0.0,
        "risk_resume",
        {"min_roi_pct": (-25, -20)},
        False,
    ),
    (
        "a stopped clone is not measured",
        STOP,
        state(track()),
        clone(-90, Status.STOPPED),
        0.0,
        None,
        None,
        False,
    ),
    (
        "an unknown status is not measured",
        STOP,
        state(track()),
        clone(-90, Status.UNKNOWN),
        0.0,
        None,
        None,
        False,
    ),
]


@pytest.mark.parametrize(
    ("rules", "before", "c", "master_roi", "action", "changes", "held"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_judge(
    rules: RiskRules,
    before: RiskState,
    c: Bot,
    master_roi: float,
    action: str | None,
    changes: dict[str, tuple[float, float]] | None,
    held: bool,
) -> None:
    v = judge(rules, before, c, master(master_roi))
    assert (v.event.action if v.event else None) == action
    if changes is not None:
        assert v.event is not None
        assert {k: (ch.before, ch.after) for k, ch in v.event.changes.items()} == changes
    assert (v.held is not None) == held == (v.reason is not None)
    assert v.state.stopped == held
    if held:
        assert v.held is not None and v.held.action == "risk_stop" and v.held.held
        assert "copytrader resume M F" in v.held.detail


def test_a_new_stop_is_audited_with_its_hold_and_a_standing_hold_is_not_audited_again() -> None:
    first = judge(STOP, state(track()), clone(-25))
    assert first.changed and first.event is not None and first.state.hold is not None
    assert first.state.hold.since == NOW and first.state.track is None
    again = judge(STOP, first.state, clone(-25, Status.STOPPED))
    assert again.event is None and not again.changed and again.held is not None


def test_peak_rises_with_the_roi_and_is_remembered() -> None:
    v = judge(STOP, state(track(peak=3)), clone(8))
    assert v.changed and v.state.track is not None and v.state.track.peak == 8
    same = judge(STOP, v.state, clone(7))
    assert not same.changed  # a lower ROI within the rules writes nothing


def test_tracks_start_when_the_clone_starts() -> None:
    made = judge(STOP, None, None, master(12))  # no clone yet: made and started this pass
    assert made.state.track == Track("", NOW, 0.0, 12.0, 0.0)
    found = judge(STOP, made.state, clone(1.5), master(13))  # the new clone, next pass
    assert found.state.track == Track(C, NOW, 0.0, 12.0, 1.5)
    stopped = judge(STOP, state(track()), clone(-3, Status.STOPPED), want=Status.RUNNING)
    assert stopped.state.track == Track(C, NOW, -3, 0.0, -3)  # restarted now: measured anew
    paused = judge(STOP, state(track()), clone(-3, Status.STOPPED), want=Status.STOPPED)
    assert paused.state.track is None and paused.state.empty
    other = judge(STOP, state(track(peak=10)), clone(2, bot_id="C2"))  # a recreated clone
    assert other.state.track == Track("C2", NOW, 2, 0.0, 2) and other.event is None


def test_no_rules_and_nothing_remembered_is_nothing() -> None:
    v = judge(RiskRules(), None, clone(-99))
    assert v.state.empty and not v.changed and v.event is None and v.reason is None


def test_numbers_read_well() -> None:
    assert risk.number(-25.0) == -25 and isinstance(risk.number(-25.0), int)
    assert risk.number(10.3 - 4.1) == 6.2
    assert risk.number(1 / 3) == 0.3333
