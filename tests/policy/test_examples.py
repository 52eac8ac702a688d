"""The example policies: valid against the simulator's demo world, and shipped as package data."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from copytrader.core import desired
from copytrader.core.model import Status
from copytrader.core.policy import OnFollowerRemoved, OnImmutableChange
from copytrader.policy import check, loader
from tests.policy.world import (
    BTC_DCA,
    CATALOGUE,
    ETH_FUTURES_GRID,
    ETH_GRID,
    MASTERS,
    REPO,
    FakePlatform,
)

EXAMPLES = REPO / "policies"


def _yaml_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix == ".yaml"}


def test_package_data_is_a_byte_for_byte_copy_of_the_examples() -> None:
    # policies/*.yaml is the source of truth; copytrader/demo_policies/ ships the same bytes.
    packaged = Path(str(resources.files("copytrader") / "demo_policies"))
    examples = _yaml_files(EXAMPLES)
    assert set(examples) == {"eth-grid.yaml", "eth-futures-grid.yaml", "btc-dca.yaml"}
    assert _yaml_files(packaged) == examples, "copy policies/*.yaml to copytrader/demo_policies/"


def test_examples_load_without_problems() -> None:
    loaded = loader.load_dir(EXAMPLES)
    assert loaded.problems == ()
    by_master = {p.master: p for p in loaded.policies}
    assert set(by_master) == {ETH_GRID, ETH_FUTURES_GRID, BTC_DCA}
    futures = by_master[ETH_FUTURES_GRID]
    assert futures.on_follower_removed is OnFollowerRemoved.DELETE
    assert futures.on_immutable_change is OnImmutableChange.FLAG
    assert [f.paused for f in by_master[ETH_GRID].followers] == [False, False, True]


async def test_examples_are_valid_against_the_demo_world() -> None:
    assert await check.check(EXAMPLES, FakePlatform()) == []


def test_eth_grid_followers_get_the_documented_settings() -> None:
    # The worked example of policies/README.md, computed by the core.
    policy, _ = loader.load_file(EXAMPLES / "eth-grid.yaml")
    assert policy is not None
    master = MASTERS[0]
    script = CATALOGUE.script(master.type)
    assert script is not None
    base = desired.base(policy, master, script)
    first, second, third = (desired.compute(base, f) for f in policy.followers)
    assert (first.settings["stopCondition"], first.settings["stopValue"]) == ("Price", 3200)
    assert first.settings["investmentAmount"] == 1000
    assert (second.settings["stopValue"], second.settings["investmentAmount"]) == (3500, 500)
    assert third.status is Status.STOPPED and third.paused
