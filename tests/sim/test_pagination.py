"""Pagination: limits, opaque tokens, stable order, and speed with many bots."""

from __future__ import annotations

import base64

from copytrader.sim.haas.state import SimState
from tests.sim.conftest import Api


def _fill(state: SimState, count: int) -> tuple[str, list[str]]:
    user = state.create_user("BITMEXSPOT")
    settings = {"symbol": "BITMEXSPOT_ETH_USDT_", "investmentAmount": 100}
    ids = [state.create_bot(user, "spot_grid", settings, status="stopped")["botId"]
           for _ in range(count)]
    return user, ids


async def test_walk_more_than_10000_bots_with_opaque_tokens(api: Api, state: SimState) -> None:
    _, ids = _fill(state, 10_050)
    first = await api.data("/bots/list", {"limit": -1, "nextPageId": ""})
    assert len(first["items"]) == 10_000
    token = first["nextPageId"]
    assert isinstance(token, str) and token
    assert not token.isdigit() and "10000" not in token  # not a plain offset
    second = await api.data("/bots/list", {"limit": -1, "nextPageId": token})
    assert second["nextPageId"] is None
    seen = [b["botId"] for b in first["items"] + second["items"]]
    assert seen == ids  # every bot once, in creation order


async def test_small_pages_and_snapshot_order(api: Api, state: SimState) -> None:
    user, ids = _fill(state, 7)
    seen: list[str] = []
    token: str | None = ""
    pages = 0
    while True:
        page = await api.data("/bots/user", {"userId": user, "limit": 3, "nextPageId": token})
        seen += [b["botId"] for b in page["items"]]
        pages += 1
        token = page["nextPageId"]
        if pages == 1:
            state.delete_out_of_band(ids[5])  # deleted mid-walk: skipped, not an error
        if token is None:
            break
    assert pages == 3
    assert seen == ids[:5] + ids[6:]


async def test_limit_and_token_validation(api: Api, state: SimState) -> None:
    _fill(state, 3)
    for limit in (0, -2, 10_001, "5", 2.5):
        env = await api.env("/bots/list", {"limit": limit})
        assert env["isSuccess"] is False, limit
    for token in ("garbage!!", base64.urlsafe_b64encode(b"abc:1").decode(), "1", 5):
        env = await api.env("/bots/list", {"limit": 1, "nextPageId": token})
        assert env["isSuccess"] is False, token
    page = await api.data("/bots/list", {"limit": 10_000})
    assert len(page["items"]) == 3 and page["nextPageId"] is None
    page = await api.data("/bots/list", {})
    assert len(page["items"]) == 3


async def test_last_page_token_can_be_retried(api: Api, state: SimState) -> None:
    _fill(state, 4)
    first = await api.data("/bots/list", {"limit": 2})
    again = [await api.data("/bots/list", {"limit": 2, "nextPageId": first["nextPageId"]})
             for _ in range(2)]
    assert again[0] == again[1] and again[0]["nextPageId"] is None


async def test_users_list_pages(api: Api, state: SimState) -> None:
    users = [state.create_user("BINANCE") for _ in range(5)]
    first = await api.data("/users/list", {"limit": 2})
    rest = []
    token = first["nextPageId"]
    while token:
        page = await api.data("/users/list", {"limit": 2, "nextPageId": token})
        rest += page["items"]
        token = page["nextPageId"]
    assert [u["userId"] for u in first["items"] + rest] == users


async def test_limit_minus_one_serves_a_10000_bot_page_of_100000(api: Api, state: SimState) -> None:
    _fill(state, 100_000)
    async with api.session.post(api.url + "/bots/list", json={"limit": -1}) as resp:
        raw = await resp.read()
    assert resp.status == 200 and raw.count(b'"botId"') == 10_000
