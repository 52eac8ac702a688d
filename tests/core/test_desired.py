"""Desired clone settings and status: the layer order, scale, limits, provenance."""

from __future__ import annotations

from typing import Any

import pytest

from copytrader.core import desired, normalize
from copytrader.core.desired import Source
from copytrader.core.model import Status
from copytrader.core.policy import Limit, OnMasterStopped
from tests.core.factories import SPOT_GRID, bot, follower, layer, policy

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    # (case, policy kwargs + follower, expected {key: (value, layer)})
    ("master value untouched", {}, {"investmentAmount": (1000, Source.MASTER)}),
    (
        "defaults override replaces master",
        {"defaults": layer({"stopValue": 3500})},
        {"stopValue": (3500, Source.DEFAULTS)},
    ),
    (
        "follower override beats defaults",
        {"defaults": layer({"stopValue": 3500}), "f": follower("u", {"stopValue": 4200})},
        {"stopValue": (4200, Source.OVERRIDE)},
    ),
    (
        "defaults scale multiplies master",
        {"defaults": layer(scale={"investmentAmount": 2.0})},
        {"investmentAmount": (2000, Source.SCALE)},
    ),
    (
        "follower scale replaces defaults scale (not compounded)",
        {
            "defaults": layer(scale={"investmentAmount": 2.0}),
            "f": follower("u", scale={"investmentAmount": 0.5}),
        },
        {"investmentAmount": (500, Source.SCALE)},
    ),
    (
        "scale applies to the defaults override",
        {
            "defaults": layer({"investmentAmount": 300}),
            "f": follower("u", scale={"investmentAmount": 0.5}),
        },
        {"investmentAmount": (150, Source.SCALE)},
    ),
    (
        "follower override is final: defaults scale not applied",
        {
            "defaults": layer(scale={"investmentAmount": 2.0}),
            "f": follower("u", {"investmentAmount": 70}),
        },
        {"investmentAmount": (70, Source.OVERRIDE)},
    ),
    (
        "limit clamps the scaled value",
        {
            "limits": {"investmentAmount": Limit(10, 1500)},
            "f": follower("u", scale={"investmentAmount": 3}),
        },
        {"investmentAmount": (1500, Source.LIMIT)},
    ),
    (
        "limit min raises a small override",
        {
            "limits": {"investmentAmount": Limit(min=10)},
            "f": follower("u", {"investmentAmount": 5}),
        },
        {"investmentAmount": (10, Source.LIMIT)},
    ),
    (
        "limit inside range leaves layer alone",
        {"limits": {"investmentAmount": Limit(10, 5000)}},
        {"investmentAmount": (1000, Source.MASTER)},
    ),
    (
        "a locked key is the master's value",
        {"locked": frozenset({"symbol"})},
        {"symbol": ("BITMEXSPOT_ETH_USDT_", Source.LOCKED)},
    ),
    (
        "a locked key is still clamped by its limit",
        {"locked": frozenset({"investmentAmount"}), "limits": {"investmentAmount": Limit(max=800)}},
        {"investmentAmount": (800, Source.LOCKED)},
    ),
    (
        "float noise of scale is rounded away",
        {"f": follower("u", scale={"investmentAmount": 0.3})},
        {"investmentAmount": (300, Source.SCALE)},
    ),
    (
        "string number from the master normalised",
        {"master_settings": {"gridCount": "2"}},
        {"gridCount": (2, Source.MASTER)},
    ),
    (
        "absent master key takes the script default",
        {"master_settings": {"stopExit": None}},
        {"stopExit": (False, Source.MASTER)},
    ),
]


@pytest.mark.parametrize(("case", "given", "expected"), CASES, ids=[c[0] for c in CASES])
def test_layers(case: str, given: dict[str, Any], expected: dict[str, tuple[Any, Source]]) -> None:
    f = given.pop("f", follower("u"))
    settings = dict(bot("M", "owner").settings)
    for key, value in given.pop("master_settings", {}).items():
        if value is None:
            settings.pop(key)
        else:
            settings[key] = value
    p = policy(f, **given)
    want = desired.compute(desired.base(p, bot("M", "owner", settings), SPOT_GRID), f)
    for key, (value, source) in expected.items():
        assert want.settings[key] == value, case
        assert type(want.settings[key]) is type(value), case
        assert want.layers[key] is source, case
    assert set(want.settings) == SPOT_GRID.keys


@pytest.mark.parametrize(
    ("master_status", "paused", "on_stopped", "expected"),
    [
        (Status.RUNNING, False, OnMasterStopped.STOP, Status.RUNNING),
        (Status.RUNNING, True, OnMasterStopped.STOP, Status.STOPPED),
        (Status.STOPPED, False, OnMasterStopped.STOP, Status.STOPPED),
        (Status.STOPPED, False, OnMasterStopped.KEEP, None),
        (Status.STOPPED, True, OnMasterStopped.KEEP, Status.STOPPED),
        (Status.UNKNOWN, False, OnMasterStopped.STOP, None),
    ],
)
def test_status(
    master_status: Status, paused: bool, on_stopped: OnMasterStopped, expected: Status | None
) -> None:
    f = follower("u", paused=paused)
    p = policy(f, master_stopped=on_stopped)
    assert desired.status(p, f, bot("M", "o", status=master_status)) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", 0),
        ("2.50", 2.5),
        (3.0, 3),
        (0.1 + 0.2, 0.3),
        ("abc", "abc"),
        (True, True),
        (float("nan"), float("nan")),
    ],
)
def test_normalise_numbers(raw: Any, expected: Any) -> None:
    got = normalize.value(SPOT_GRID.spec("stopValue"), raw)
    if isinstance(expected, float) and expected != expected:
        assert got != got  # NaN stays as given: it will differ and be edited back
    else:
        assert got == expected
        assert type(got) is type(expected)


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("False", False), (False, False), (1, 1)]
)
def test_normalise_booleans(raw: Any, expected: Any) -> None:
    assert normalize.value(SPOT_GRID.spec("stopExit"), raw) == expected
