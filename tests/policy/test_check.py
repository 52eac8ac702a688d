"""policy check end to end: the folder, structural problems, then the platform's view."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from copytrader.core.model import User
from copytrader.core.policy import Problem
from copytrader.policy import check
from tests.policy.conftest import Write
from tests.policy.world import (
    BTC_DCA,
    ETH_FUTURES_GRID,
    ETH_GRID,
    FUTURES_USERS,
    MASTERS,
    SPOT_OWNER,
    SPOT_USERS,
    USERS,
    FakePlatform,
)

GOOD = f"""\
master: {ETH_GRID}
defaults:
  overrides: {{stopValue: 3500}}
  scale: {{investmentAmount: 1.0}}
limits:
  investmentAmount: {{min: 10, max: 5000}}
locked: [symbol]
followers:
  - user: {SPOT_USERS[0]}
    overrides: {{stopCondition: Price}}
    scale: {{investmentAmount: 0.5}}
  - user: {SPOT_USERS[1]}
    paused: true
"""


def _lines(problems: list[Problem], folder: Path) -> list[str]:
    return [str(p).removeprefix(f"{folder}/") for p in problems]


async def test_valid_folder_has_no_problems(tmp_path: Path, write: Write) -> None:
    write("eth.yaml", GOOD)
    assert await check.check(tmp_path, FakePlatform()) == []


async def test_platform_problems_are_located_and_sorted(tmp_path: Path, write: Write) -> None:
    write(
        "b-dca.yaml",
        f"""\
master: {BTC_DCA}
locked: [symbol]
defaults:
  overrides:
    direction: Sideways
    symbol: BITMEXSPOT_ETH_USDT_
  scale: {{noSuchKey: 2}}
followers:
  - user: {SPOT_USERS[3]}
    scale: {{direction: 2}}
  - user: {FUTURES_USERS[0]}
  - user: 00000000-0000-0000-0000-000000000000
  - user: {SPOT_OWNER}
""",
    )
    write("a-missing.yaml", "master: 0123456789abcdef0123456789abcdef\n")
    write("c-broken.yaml", f"master: {ETH_FUTURES_GRID}\nfollowers: nobody\n")
    problems = await check.check(tmp_path, FakePlatform())
    assert _lines(problems, tmp_path) == [
        "a-missing.yaml:1:9: master bot 0123456789abcdef0123456789abcdef not found on the platform",
        "b-dca.yaml:5:5: direction: 'Sideways' is not one of Long, Short",
        "b-dca.yaml:6:5: symbol is locked: it cannot be overridden",
        "b-dca.yaml:7:11: unknown setting 'noSuchKey' for bot type spot_dollar_cost_averaging "
        "(its settings: direction, investmentAmount, orderCount, priceDeviation, stopLoss, "
        "symbol, takeProfit, volumeScale)",
        "b-dca.yaml:10:13: direction is of type option, not a number: it cannot be scaled",
        f"b-dca.yaml:11:11: follower user {FUTURES_USERS[0]} is on exchange BITMEX, the master "
        "on BITMEXSPOT",
        "b-dca.yaml:12:11: follower user 00000000-0000-0000-0000-000000000000 not found on the "
        "platform",
        f"b-dca.yaml:13:11: follower user {SPOT_OWNER} owns the master bot",
        "c-broken.yaml:2:12: followers must be a list, got the string 'nobody'",
    ]


async def test_structure_and_platform_problems_of_one_file_come_in_one_run(
    tmp_path: Path, write: Write
) -> None:
    # Six mistakes: two the structure shows, four only the platform can (a typo in a setting,
    # an option value, a user on another exchange, one unknown user). One run reports all.
    write(
        "eth.yaml",
        f"""\
master: {ETH_GRID}
defaults:
  overrides: {{stopValeu: 3500, gridMode: arithmetic}}
folowers: []
followers:
  - user: {SPOT_USERS[0]}
    paused: maybe
  - user: {FUTURES_USERS[0]}
  - user: 00000000-0000-0000-0000-000000000000
""",
    )
    problems = await check.check(tmp_path, FakePlatform())
    assert _lines(problems, tmp_path) == [
        "eth.yaml:3:15: unknown setting 'stopValeu' for bot type spot_grid; did you mean "
        "'stopValue'? (its settings: gridCount, gridMode, investmentAmount, investmentAsset, "
        "lowerLimit, startCondition, startType, startValue, stopCondition, stopExit, stopType, "
        "stopValue, symbol, tradeToFillGrid, upperLimit)",
        "eth.yaml:3:32: gridMode: 'arithmetic' is not one of Arithmetic, Geometric; did you "
        "mean 'Arithmetic'?",
        "eth.yaml:4:1: unknown key 'folowers' in the policy; did you mean 'followers'? (expected "
        "one of master, defaults, limits, locked, followers, on_follower_removed, "
        "on_master_stopped, on_immutable_change, propagation, on_duplicate, on_existing)",
        "eth.yaml:7:13: paused must be true or false, got the string 'maybe'",
        f"eth.yaml:8:11: follower user {FUTURES_USERS[0]} is on exchange BITMEX, the master on "
        "BITMEXSPOT",
        "eth.yaml:9:11: follower user 00000000-0000-0000-0000-000000000000 not found on the "
        "platform",
    ]


async def test_locked_key_scaled_and_unknown_locked_key(tmp_path: Path, write: Write) -> None:
    write(
        "eth.yaml",
        f"master: {ETH_GRID}\nlocked: [investmentAmount, colour]\n"
        f"followers:\n  - user: {SPOT_USERS[0]}\n    scale: {{investmentAmount: 3}}\n",
    )
    problems = await check.check(tmp_path, FakePlatform())
    assert _lines(problems, tmp_path) == [
        "eth.yaml:2:28: unknown setting 'colour' for bot type spot_grid (its settings: gridCount, "
        "gridMode, investmentAmount, investmentAsset, lowerLimit, startCondition, startType, "
        "startValue, stopCondition, stopExit, stopType, stopValue, symbol, tradeToFillGrid, "
        "upperLimit)",
        "eth.yaml:5:13: investmentAmount is locked: it cannot be scaled",
    ]


async def test_master_of_a_type_missing_from_the_catalogue(tmp_path: Path, write: Write) -> None:
    write("eth.yaml", f"master: {ETH_GRID}\n")
    odd = dataclasses.replace(MASTERS[0], type="martingale")
    problems = await check.check(tmp_path, FakePlatform(bots=[odd]))
    assert _lines(problems, tmp_path) == [
        "eth.yaml:1:9: master bot type 'martingale' is not in the script catalogue"
    ]


async def test_platform_is_read_once_for_all_files(tmp_path: Path, write: Write) -> None:
    write("a.yaml", GOOD)
    write("b.yaml", f"master: {BTC_DCA}\nfollowers:\n  - user: {SPOT_USERS[3]}\n")
    write("c.yaml", f"master: {ETH_FUTURES_GRID}\nfollowers:\n  - user: {FUTURES_USERS[1]}\n")
    platform = FakePlatform()
    assert await check.check(tmp_path, platform) == []
    assert platform.requests_sent == 3  # catalogue, one sweep of bots, one of users


async def test_only_invalid_files_need_no_platform(tmp_path: Path, write: Write) -> None:
    write("a.yaml", "master: [\n")
    platform = FakePlatform()
    problems = await check.check(tmp_path, platform)
    assert _lines(problems, tmp_path) == [
        "a.yaml:2:1: YAML syntax error: the file ends inside a '[' or '{' that is never closed"
    ]
    assert platform.requests_sent == 0


async def test_a_user_moved_to_another_exchange_is_found(tmp_path: Path, write: Write) -> None:
    write("eth.yaml", GOOD)
    users = [u if u.user_id != SPOT_USERS[1] else User(u.user_id, "BINANCE") for u in USERS]
    problems = await check.check(tmp_path, FakePlatform(users=users))
    assert _lines(problems, tmp_path) == [
        f"eth.yaml:12:11: follower user {SPOT_USERS[1]} is on exchange BINANCE, the master on "
        "BITMEXSPOT"
    ]
