"""The health rules, as a table of situations."""

from __future__ import annotations

import pytest

from copytrader.core.plan import Plan
from copytrader.daemon.health import Limits, View, evaluate, stuck
from copytrader.daemon.passes import Finished
from copytrader.reconcile.service import PassResult

LIMITS = Limits(window=100.0, stuck_after=50.0)


def done(state: str, ended: float) -> Finished:
    error = "cannot connect" if state == "aborted" else None
    result = PassResult("r", Plan(), (), (), state, 3, error)
    return Finished("interval", result, state, result.error, ended - 1.0, ended, 0.0)


GOOD, ABORTED = done("ok", 900.0), done("aborted", 990.0)


def view(**kw: object) -> View:
    base: dict[str, object] = {"now": 1000.0, "started": 0.0, "db_ok": True, "stopping": False,
                               "running_since": None, "last_activity": 0.0, "last": GOOD,
                               "last_good": GOOD, "consecutive_aborts": 0}
    base.update(kw)
    return View(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("v", "ok", "reason"), [
    (view(), True, None),
    (view(db_ok=False), False, "database unreachable"),
    (view(stopping=True), False, "stopping"),
    (view(now=1001.0, started=1000.0, last=None, last_good=None), True, None),  # starting
    (view(last=None, last_good=None), False, "no pass yet"),
    (view(last=ABORTED, last_good=None), False, "no successful pass yet: cannot connect"),
    (view(now=1050.0, last=ABORTED, last_good=done("ok", 980.0), consecutive_aborts=3),
     True, None),  # the platform is not down for long yet
    (view(now=1200.0, last=ABORTED, consecutive_aborts=9), False,
     "last successful pass 300 s ago: cannot connect"),
    (view(now=1200.0), False, "last successful pass 300 s ago"),
    # a long pass that makes progress is fine; one that stopped moving is not
    (view(now=1200.0, running_since=1000.0, last_activity=1190.0), True, None),
    (view(now=1200.0, running_since=1000.0, last_activity=1100.0), False,
     "pass stuck: no progress for 100 s"),
])
def test_health(v: View, ok: bool, reason: str | None) -> None:
    healthy, doc = evaluate(v, LIMITS)
    assert healthy is ok
    assert doc.get("reason") == reason
    assert doc["status"] == ("ok" if ok and v.last is not None else
                             "starting" if ok else "unhealthy")


def test_stuck_counts_from_the_pass_start_or_the_last_request() -> None:
    assert stuck(view(running_since=990.0, last_activity=0.0), LIMITS) is None
    assert stuck(view(running_since=900.0, last_activity=0.0), LIMITS) == 100.0
    assert stuck(view(running_since=None), LIMITS) is None
