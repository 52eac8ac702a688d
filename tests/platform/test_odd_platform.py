"""Answers the simulator never gives, from a small scripted aiohttp server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from copytrader.errors import AuthError, MalformedResponseError, RateLimitedError, ServerError
from copytrader.platform.haas.client import PlatformClient
from copytrader.settings import Secret
from tests.platform.conftest import KEY, fast_backoff
from tests.platform.test_parse import REFERENCE_BOT

Answer = Callable[[int], web.Response]


class Scripted:
    """A platform whose every answer comes from ``answer(n)`` (n counts requests from 0)."""

    def __init__(self) -> None:
        self.answer: Answer = lambda n: web.json_response({})
        self.count = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        n, self.count = self.count, self.count + 1
        return self.answer(n)


@pytest.fixture
async def scripted() -> AsyncIterator[Scripted]:
    platform = Scripted()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", platform.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    platform.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield platform
    await runner.cleanup()


@pytest.fixture
async def client(scripted: Scripted) -> AsyncIterator[PlatformClient]:
    async with PlatformClient(scripted.url, Secret(KEY), backoff=fast_backoff()) as made:
        yield made


def ok(data: Any) -> web.Response:
    return web.json_response({"isSuccess": True, "code": 0, "message": "", "data": data})


async def test_repeating_token_cannot_loop_forever(
    scripted: Scripted, client: PlatformClient
) -> None:
    scripted.answer = lambda n: ok({"items": [REFERENCE_BOT], "nextPageId": "again"})
    with pytest.raises(MalformedResponseError, match="repeated"):
        [b async for b in client.iter_bots()]
    assert scripted.count == 2


async def test_empty_token_would_restart_the_listing(
    scripted: Scripted, client: PlatformClient
) -> None:
    scripted.answer = lambda n: ok({"items": [REFERENCE_BOT], "nextPageId": ""})
    with pytest.raises(MalformedResponseError, match="repeated"):
        [u async for u in client.iter_users()]
    assert scripted.count == 1


async def test_html_502_is_a_retried_server_error(
    scripted: Scripted, client: PlatformClient
) -> None:
    def answer(n: int) -> web.Response:
        if n == 0:
            return web.Response(status=502, text="<html>Bad Gateway</html>",
                                content_type="text/html")
        return ok([{"id": "BITMEX", "name": "BitMEX", "isSpot": False, "isLeverage": True}])

    scripted.answer = answer
    assert [e.id for e in await client.exchanges()] == ["BITMEX"]
    scripted.answer = lambda n: web.Response(status=503, text="down")
    with pytest.raises(ServerError, match="HTTP 503") as caught:
        await client.exchanges()
    assert caught.value.status == 503


@pytest.mark.parametrize(
    "body",
    [
        {"isSuccess": True, "code": 0, "message": ""},  # no data
        {"isSuccess": "yes", "data": []},  # not a boolean
        ["isSuccess", True],
    ],
)
async def test_no_usable_envelope(scripted: Scripted, client: PlatformClient, body: Any) -> None:
    scripted.answer = lambda n: web.json_response(body)
    with pytest.raises(MalformedResponseError):
        await client.exchanges()
    assert scripted.count == 1


async def test_403_is_an_auth_error(scripted: Scripted, client: PlatformClient) -> None:
    scripted.answer = lambda n: web.Response(status=403, text="forbidden")
    with pytest.raises(AuthError, match="HTTP 403"):
        await client.markets()
    assert scripted.count == 1


async def test_429_without_retry_after_backs_off(
    scripted: Scripted, client: PlatformClient
) -> None:
    scripted.answer = lambda n: web.Response(status=429, text="slow down")
    with pytest.raises(RateLimitedError) as caught:
        await client.markets()
    assert scripted.count == 5
    assert 0 <= caught.value.retry_after <= 0.02  # fast_backoff's cap


async def test_wrong_shapes_are_malformed(scripted: Scripted, client: PlatformClient) -> None:
    scripted.answer = lambda n: ok({"items": "x"})
    with pytest.raises(MalformedResponseError, match="markets"):
        await client.markets()
    with pytest.raises(MalformedResponseError, match="items"):
        await client.list_bots_page()


async def test_redirects_are_not_followed_with_the_key(
    scripted: Scripted, client: PlatformClient
) -> None:
    scripted.answer = lambda n: web.Response(status=307, headers={"Location": "/elsewhere"})
    with pytest.raises(MalformedResponseError, match="HTTP 307"):
        await client.markets()
    assert scripted.count == 1
