"""core/episodes.py: streaks of failing passes become one announcement each way."""

from __future__ import annotations

from datetime import timedelta

from copytrader.core import episodes
from copytrader.core.records import Episode
from tests.core.factories import T0

KEY = episodes.write_key("M", "F")


def fail(error: str = "HTTP 500") -> episodes.Observed:
    return episodes.Observed(KEY, episodes.WRITES, "M", "F", True, error)


def fine() -> episodes.Observed:
    return episodes.Observed(KEY, episodes.WRITES, "M", "F", False)


def unknown() -> episodes.Observed:
    return episodes.Observed(KEY, episodes.WRITES, "M", "F", None)


def run(seen: list[list[episodes.Observed]]) -> tuple[dict[str, Episode], list[str]]:
    """Feed passes one by one as the store would keep them; the announcements in order."""
    stored: dict[str, Episode] = {}
    said: list[str] = []
    for i, one in enumerate(seen):
        step = episodes.step(stored, one, T0 + timedelta(minutes=i))
        for key in step.drop:
            stored.pop(key, None)
        stored.update({e.key: e for e in step.save})
        said += [a.action for a in step.announce]
    return stored, said


# (id, passes, announcements, streak left)
CASES = [
    ("two failures are no episode", [[fail()], [fail()]], [], 2),
    ("three in a row open it once", [[fail()]] * 5, ["write_failing"], 5),
    ("a success in between resets", [[fail()], [fail()], [fine()], [fail()], [fail()]], [], 2),
    (
        "a pass that says nothing keeps the streak",
        [[fail()], [unknown()], [fail()], [fail()]],
        ["write_failing"],
        3,
    ),
    ("it ends with recovered", [[fail()]] * 3 + [[fine()]], ["write_failing", "recovered"], 0),
    ("a streak that never opened ends silently", [[fail()], [fail()], [fine()]], [], 0),
    (
        "a second episode is announced again",
        [[fail()]] * 3 + [[fine()]] + [[fail()]] * 3,
        ["write_failing", "recovered", "write_failing"],
        3,
    ),
]


def test_cases() -> None:
    for name, passes, said, streak in CASES:
        stored, announced = run(passes)  # type: ignore[arg-type]
        assert announced == said, name
        assert (stored[KEY].streak if KEY in stored else 0) == streak, name


def test_platform_down_and_its_recovery() -> None:
    down = [[episodes.platform(True, "network: connection refused")]] * 3
    stored, said = run([*down, [episodes.platform(False, None)]])
    assert said == ["platform_down", "recovered"] and stored == {}
    step = episodes.step({}, [episodes.platform(True, "x")], T0)
    assert step.save[0].key == "platform_down" and step.save[0].master is None


def test_announcements_say_what_and_since_when() -> None:
    stored, _ = run([[fail("first")], [fail("second")]])
    step = episodes.step(stored, [fail("third")], T0 + timedelta(minutes=5))
    (opened,) = step.announce
    assert (opened.action, opened.master, opened.follower, opened.error) == (
        "write_failing",
        "M",
        "F",
        "third",
    )
    assert "3 passes in a row since 2026-11-01T12:00:00Z" in opened.detail
    ended = episodes.step({KEY: step.save[0]}, [fine()], T0).announce[0]
    assert ended.action == "recovered" and dict(ended.changes) == {"write_failing": (3, 0)}


def test_followers_no_longer_planned_end_their_streaks() -> None:
    stored, _ = run([[fail()]] * 3)
    gone = episodes.gone(stored, planned=set(), masters={"M"})
    assert [(o.key, o.failed) for o in gone] == [(KEY, False)]
    assert episodes.gone(stored, planned={("M", "F")}, masters={"M"}) == []
    assert episodes.gone(stored, planned=set(), masters={"other"}) == []  # its file invalid
