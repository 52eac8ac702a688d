"""The API key and users' exchange secrets never reach a log line, a message or a repr."""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator
from typing import Any

import pytest
import structlog
from aiohttp import web

from copytrader.errors import PlatformError
from copytrader.platform.haas.client import PlatformClient
from copytrader.settings import Secret
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import Fault
from tests.platform.conftest import KEY, MakeClient

EXCHANGE_SECRET = "exchange-secret-0b6d2f-NEVER-LOG"


def everything_said(error: BaseException) -> str:
    """Message, repr and the whole traceback with its chain of causes."""
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


async def test_key_never_in_logs_or_errors(sim: SimServer, make_client: MakeClient) -> None:
    user = sim.state.create_user("BITMEXSPOT")
    client = make_client(timeout=0.3)
    errors: list[BaseException] = []
    for kind in ("500", "reject", "malformed", "missing_fields", "reset", "lost", "timeout"):
        sim.state.faults.add(Fault(path="/bots/clone", kind=kind, delay=0.5))
        with pytest.raises(PlatformError) as caught:
            await client.clone_bot(user, "nope", {})
        errors.append(caught.value)
    with structlog.testing.capture_logs() as logs:
        sim.state.faults.add(Fault(path="/users/user", kind="500", times=2))
        await client.get_user(user)
        with pytest.raises(PlatformError) as caught:
            await client.get_user("unknown")
        errors.append(caught.value)
        await sim.stop()
        with pytest.raises(PlatformError) as caught:
            await client.get_user(user)
        errors.append(caught.value)
        await sim.start()
    async with PlatformClient(sim.url, Secret(KEY + "-wrong")) as wrong:
        with pytest.raises(PlatformError) as caught:
            await wrong.exchanges()
        errors.append(caught.value)
        assert KEY not in repr(wrong)

    events = [e["event"] for e in logs]
    assert "platform.request" in events and "platform.retry" in events
    request = next(e for e in logs if e["event"] == "platform.request")
    assert set(request) >= {"endpoint", "status", "seconds", "attempt", "log_level"}
    assert KEY not in str(logs)
    for error in errors:
        assert KEY not in everything_said(error), type(error)
    assert KEY not in repr(client)


@pytest.fixture
async def echo_platform() -> AsyncIterator[str]:
    """A platform that echoes the request, key included, in its error message (a bad one)."""

    async def echo(request: web.Request) -> web.Response:
        body = await request.text()
        message = f"refused {body} from {request.headers.get('X-API-Key')}"
        return web.json_response({"isSuccess": False, "code": 7, "message": message,
                                  "data": None}, status=400)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_echoed_secrets_are_blanked(echo_platform: str) -> None:
    body: dict[str, Any] = {"exchangeId": "BITMEX", "publicKey": "public-key-1",
                            "secretKey": EXCHANGE_SECRET, "extraKey": None}
    async with PlatformClient(echo_platform, Secret(KEY)) as client:
        with structlog.testing.capture_logs() as logs:
            with pytest.raises(PlatformError) as caught:
                await client.call("users.create", body)
            with pytest.raises(PlatformError) as edit_error:
                await client.edit_bot("u", "b", {"stopValue": 1})
    said = everything_said(caught.value) + everything_said(edit_error.value)
    assert "refused" in said and "***" in said
    for secret in (KEY, EXCHANGE_SECRET, "public-key-1"):
        assert secret not in said
        assert secret not in str(logs)
