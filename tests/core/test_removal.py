"""core/removal.py: on_follower_removed, as a table of cases."""

from __future__ import annotations

import pytest

from copytrader.core import removal
from copytrader.core.model import Status
from copytrader.core.policy import OnFollowerRemoved
from copytrader.core.records import Link
from tests.core.factories import bot, policy

LINK = Link("M", "F", "C")


@pytest.mark.parametrize(
    ("rule", "status", "expected"),
    [
        (OnFollowerRemoved.STOP, Status.RUNNING, ["stop"]),
        (OnFollowerRemoved.STOP, Status.STOPPED, []),
        (OnFollowerRemoved.DELETE, Status.RUNNING, ["stop", "delete"]),
        (OnFollowerRemoved.DELETE, Status.STOPPED, ["delete"]),
        (OnFollowerRemoved.KEEP, Status.RUNNING, ["release"]),
        (OnFollowerRemoved.STOP, None, ["release"]),  # no clone on the platform
        (OnFollowerRemoved.DELETE, None, ["release"]),
    ],
)
def test_steps(rule: OnFollowerRemoved, status: Status | None, expected: list[str]) -> None:
    clone = None if status is None else bot("C", "F", status=status)
    steps = removal.steps(policy(removed=rule), LINK, clone)
    assert [a.kind.value for a in steps] == expected
    assert all(a.bot == "C" and a.follower == "F" for a in steps)
    assert all(a.reason.startswith("follower removed") for a in steps)
