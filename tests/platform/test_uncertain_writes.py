"""What a failed write may have done (``maybe_applied``), over every attempt of the call, and
the write id every attempt of one write carries. The real client against the simulator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from copytrader.core.model import Scalar
from copytrader.errors import CopytraderError, LeaseLostError, NetworkError
from copytrader.platform import transport
from copytrader.platform.haas.client import PlatformClient
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import Fault
from tests.platform.conftest import MakeClient

GRID: dict[str, Scalar] = {"symbol": "BITMEXSPOT_ETH_USDT_", "lowerLimit": 3000, "upperLimit": 4000}
TIMEOUT = 0.3


@pytest.fixture
def world(sim: SimServer) -> tuple[str, str, str]:
    """(owner, follower, stopped master bot id) on BITMEXSPOT."""
    owner = sim.state.create_user("BITMEXSPOT")
    follower = sim.state.create_user("BITMEXSPOT")
    master = sim.state.create_bot(owner, "spot_grid", GRID)["botId"]
    sim.state.set_status(master, "stopped")
    return owner, follower, master


@pytest.mark.parametrize(
    ("path", "kind", "maybe"),
    [
        ("/bots/clone", "timeout", True),  # sent, no answer in time
        ("/bots/clone", "lost", True),  # done, the answer dropped
        ("/bots/clone", "reset", True),  # dropped before or after: the client cannot tell
        ("/bots/start", "500", True),  # a 5xx says nothing of what was done
        ("/bots/start", "malformed", True),  # nor an answer that cannot be read
        ("/bots/clone", "missing_fields", True),  # done, the answer unreadable
        ("/bots/edit", "reject", False),  # refused
        ("/bots/start", "reject", False),
    ],
)
async def test_a_failed_write_says_whether_it_may_have_been_carried_out(
    path: str,
    kind: str,
    maybe: bool,
    sim: SimServer,
    make_client: MakeClient,
    world: tuple[str, str, str],
) -> None:
    owner, follower, master = world
    client = make_client(timeout=TIMEOUT)
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "/bots/clone": lambda: client.clone_bot(follower, master, {}),
        "/bots/start": lambda: client.start_bot(master),
        "/bots/edit": lambda: client.edit_bot(owner, master, {"stopValue": 3}),
    }
    sim.state.faults.add(Fault(path=path, kind=kind, delay=2 * TIMEOUT))
    with pytest.raises(CopytraderError) as caught:
        await calls[path]()
    assert caught.value.maybe_applied is maybe


async def test_an_edit_resent_after_every_timeout_may_have_been_carried_out(
    sim: SimServer, make_client: MakeClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    client = make_client(timeout=TIMEOUT)
    sim.state.faults.add(Fault(path="/bots/edit", kind="timeout", delay=TIMEOUT, times=-1))
    with pytest.raises(NetworkError) as caught:
        await client.edit_bot(owner, master, {"stopValue": 3})
    assert caught.value.maybe_applied


async def test_a_refused_connection_is_nothing_done(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str]
) -> None:
    _, _, master = world
    await sim.stop()
    with pytest.raises(NetworkError, match="cannot connect") as caught:
        await client.start_bot(master)
    assert not caught.value.maybe_applied


class Guard:
    """The writer lease's last-moment check: held for the first ``held`` sends."""

    def __init__(self, held: int) -> None:
        self.held = held

    def __call__(self) -> str:
        if self.held == 0:
            raise LeaseLostError("not sent: this process does not hold the writer lease")
        self.held -= 1
        return "host:1:abc#1"


async def test_a_resend_the_lease_forbids_after_a_lost_answer_may_have_been_carried_out(
    sim: SimServer, make_client: MakeClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    client = make_client(timeout=TIMEOUT)
    client.guard_writes(Guard(held=1))
    sim.state.faults.add(Fault(path="/bots/edit", kind="lost"))
    with pytest.raises(LeaseLostError) as caught:
        await client.edit_bot(owner, master, {"stopValue": 3})
    assert caught.value.maybe_applied
    assert str(caught.value) == (
        "bots.edit: connection failed (ServerDisconnectedError); "
        "not resent: this process does not hold the writer lease"
    )
    assert len(sim.state.writes("/bots/edit")) == 1
    assert sim.state.bot(master)["settings"]["stopValue"] == 3  # the first one was done


async def test_a_write_the_lease_forbids_at_once_is_nothing_done(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    client.guard_writes(Guard(held=0))
    with pytest.raises(LeaseLostError, match=r"^not sent: ") as caught:
        await client.edit_bot(owner, master, {"stopValue": 3})
    assert not caught.value.maybe_applied
    assert sim.state.writes() == []


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
