"""The BotPrimeX client against the BotPrimeX simulator over HTTP: error bodies mapped onto
the error tree, cursor pages, the tag, and refusals that name a state read as that state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from copytrader.core.model import Status
from copytrader.core.tags import clone_tag
from copytrader.errors import (
    AuthError,
    MalformedResponseError,
    NetworkError,
    PermanentError,
    ServerError,
)
from copytrader.platform.botprimex.client import MASTER, BotPrimeXClient
from copytrader.settings import Secret
from copytrader.sim.botprimex.server import BpxServer
from copytrader.sim.faults import Fault
from tests.bpx_world import ALICE, BOB, BTC, KEYS, MASTER_KEY, bpx_sim
from tests.platform.conftest import fast_backoff

Make = Callable[..., BotPrimeXClient]


@pytest.fixture
async def bpx() -> AsyncIterator[BpxServer]:
    async with bpx_sim(seed=1) as server:
        yield server


@pytest.fixture
async def make(bpx: BpxServer) -> AsyncIterator[Make]:
    made: list[BotPrimeXClient] = []

    def build(url: str | None = None, keys: dict[str, str] = KEYS, **kw: Any) -> BotPrimeXClient:
        kw.setdefault("backoff", fast_backoff())
        kw.setdefault("rate_limit_per_minute", None)
        client = BotPrimeXClient(
            url or bpx.url, Secret(MASTER_KEY), {n: Secret(k) for n, k in keys.items()}, **kw
        )
        made.append(client)
        return client

    yield build
    for client in made:
        await client.aclose()


async def _masters(client: BotPrimeXClient) -> dict[str, Any]:
    sweep = client.sweep(masters_only=True)
    part = await anext(sweep)
    await sweep.aclose()
    assert part.users == frozenset({MASTER})
    return dict(part.bots)


async def test_a_clone_is_created_in_the_followers_account_with_the_tag(
    bpx: BpxServer, make: Make
) -> None:
    client = make()
    master = (await _masters(client))[BTC]
    assert (master.type, master.exchange_id, master.settings["pair"]) == (
        "dca",
        "binance",
        "BTC/USDT",
    )
    made = await client.clone_bot(ALICE, BTC, {**master.settings, "stake_amount": 40})
    stored = bpx.state.bots[made.bot_id]
    assert stored.account == ALICE and stored.name == f"BTC DCA [ct:{clone_tag(BTC, ALICE)}]"
    assert made.settings["name"] == "BTC DCA" and made.mark == clone_tag(BTC, ALICE)
    assert (made.user_id, made.status, made.settings["stake_amount"]) == (ALICE, Status.STOPPED, 40)
    await client.edit_bot(ALICE, made.bot_id, {"name": "BTC v2"})
    assert stored.name == f"BTC v2 [ct:{clone_tag(BTC, ALICE)}]"
    create = next(r for r in bpx.state.requests if (r.method, r.path) == ("POST", "/bots"))
    assert create.account == ALICE and set(create.body or {}) == {
        "name",
        "exchange",
        "pair",
        "strategy",
        "stake_amount",
        "max_open_trades",
        "stop_loss",
        "dry_run",
    }


async def test_start_and_stop_after_a_lost_answer_read_the_state_they_name(
    bpx: BpxServer, make: Make
) -> None:
    client = make()
    master = (await _masters(client))[BTC]
    made = await client.clone_bot(BOB, BTC, dict(master.settings))
    bpx.state.faults.add(Fault(path="/bots/{id}/start", kind="lost", account=BOB))
    await client.start_bot(made.bot_id)  # lost, resent: already_running means started
    assert bpx.state.bots[made.bot_id].status == "running"
    starts = [r.status for r in bpx.state.requests if r.path.endswith("/start")]
    assert starts == [0, 400]
    bpx.state.faults.add(Fault(path="/bots/{id}/stop", kind="lost", account=BOB))
    await client.stop_bot(made.bot_id)
    assert bpx.state.bots[made.bot_id].status == "stopped"


async def test_a_lost_create_is_not_sent_again(bpx: BpxServer, make: Make) -> None:
    client = make()
    master = (await _masters(client))[BTC]
    bpx.state.faults.add(Fault(path="/bots", method="POST", kind="lost", account=ALICE))
    with pytest.raises(NetworkError):
        await client.clone_bot(ALICE, BTC, dict(master.settings))
    assert len([r for r in bpx.state.requests if r.method == "POST"]) == 1
    assert len(bpx.state.bots_of(ALICE)) == 1  # made, answer lost: the next pass adopts it


async def test_error_bodies_map_onto_the_error_tree(bpx: BpxServer, make: Make) -> None:
    client = make(backoff=fast_backoff(2))
    await _masters(client)
    alice = client.followers[ALICE]
    with pytest.raises(PermanentError) as info:
        await alice.call("bots.get", bot_id=BTC)
    assert (info.value.code, info.value.status) == ("forbidden", 403)
    with pytest.raises(PermanentError) as info:
        await alice.call("bots.get", bot_id="bot_gone")
    assert info.value.code == "not_found"
    with pytest.raises(PermanentError) as info:
        await client.master.edit(BTC, {"pair": "ETH/USDT"})
    assert info.value.code == "immutable_field" and "cannot be changed" in str(info.value)
    with pytest.raises(AuthError):
        await make(keys={ALICE: "wrong-key"}).followers[ALICE].call("account")
    bpx.state.faults.add(Fault(path="/account", kind="500", times=-1, account=BOB))
    with pytest.raises(ServerError):
        await client.followers[BOB].call("account")
    assert len([r for r in bpx.state.requests if r.account == BOB]) == 2  # a read is resent
    bpx.state.faults.clear()
    bpx.state.faults.add(Fault(path="/bots", method="GET", kind="missing_fields", account=BOB))
    bpx.state.create_bot(bpx.state.accounts[BOB], {**_fields(), "name": "own"})
    with pytest.raises(MalformedResponseError, match="without 'id'"):
        await client.followers[BOB].bots()
    bpx.state.faults.add(Fault(path="/bots", method="GET", kind="malformed", account=BOB))
    with pytest.raises(MalformedResponseError, match="not JSON"):
        await client.followers[BOB].bots()


async def test_many_bots_are_read_page_by_page(bpx: BpxServer, make: Make) -> None:
    client = make()
    alice = bpx.state.accounts[ALICE]
    made = [bpx.state.create_bot(alice, {**_fields(), "name": f"b{i}"}).bot_id for i in range(230)]
    bots = await client.followers[ALICE].bots()
    assert [b.bot_id for b in bots] == made
    pages = [r for r in bpx.state.requests if (r.account, r.path) == (ALICE, "/bots")]
    assert len(pages) == 3


async def _repeating(request: web.Request) -> web.Response:
    if request.path == "/account":
        return web.json_response({"id": "acc_x", "plan": "standard"})
    return web.json_response({"data": [], "next_cursor": "same"})


async def test_a_repeated_cursor_ends_the_sweep_with_an_error(make: Make) -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _repeating)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        client = make(f"http://127.0.0.1:{runner.addresses[0][1]}", keys={})
        with pytest.raises(MalformedResponseError, match="repeated"):
            await client.master.bots()
    finally:
        await runner.cleanup()


def _fields() -> dict[str, Any]:
    return {
        "name": "x",
        "exchange": "binance",
        "pair": "ADA/USDT",
        "strategy": "grid",
        "stake_amount": 5,
        "max_open_trades": 1,
        "stop_loss": -50,
        "dry_run": True,
    }
