"""The write id every attempt of one write carries (``X-Copytrader-Write``). The real client
against the simulator."""

from __future__ import annotations

import pytest

from copytrader.core.model import Scalar
from copytrader.platform import transport
from copytrader.platform.haas.client import PlatformClient
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import Fault

GRID: dict[str, Scalar] = {"symbol": "BITMEXSPOT_ETH_USDT_", "lowerLimit": 3000, "upperLimit": 4000}


@pytest.fixture
def world(sim: SimServer) -> tuple[str, str, str]:
    """(owner, follower, stopped master bot id) on BITMEXSPOT."""
    owner = sim.state.create_user("BITMEXSPOT")
    follower = sim.state.create_user("BITMEXSPOT")
    master = sim.state.create_bot(owner, "spot_grid", GRID)["botId"]
    sim.state.set_status(master, "stopped")
    return owner, follower, master


async def test_every_attempt_of_a_write_carries_its_id_and_reads_none(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    sim.state.faults.add(Fault(path="/bots/edit", kind="500", times=2))
    token = transport.WRITE_ID.set("write-1")
    try:
        await client.edit_bot(owner, master, {"stopValue": 3})
        await client.get_bot(owner, master)
    finally:
        transport.WRITE_ID.reset(token)
    await client.stop_bot(master)
    assert [(r.path, r.write_id) for r in sim.state.requests] == [
        ("/bots/edit", "write-1"),
        ("/bots/edit", "write-1"),
        ("/bots/edit", "write-1"),
        ("/bots/bot", None),
        ("/bots/stop", None),
    ]
