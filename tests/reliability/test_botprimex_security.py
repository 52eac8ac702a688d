"""BotPrimeX secrets stay secret: the master account's key and every follower account's
key (canaries) never show in CLI output, the daemon's logs, ``/metrics``, ``/healthz``,
the database files, the audit trail or an exception message, also when the platform is
unreachable, failing, or refusing a key; and the accounts file must be private.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from copytrader.errors import PlatformError
from copytrader.platform.botprimex.client import BotPrimeXClient
from copytrader.settings import Secret
from copytrader.sim.botprimex.server import BpxServer
from copytrader.sim.faults import Fault
from tests.bpx_world import ALICE, BOB, BTC, CAROL, ETH, KEYS, MASTER_KEY, bpx_sim, write_accounts
from tests.reliability.daemon import DaemonProcess, free_port
from tests.reliability.support import run_cli, subprocess_env
from tests.world import write_policy

REVOKED = "canary-bpx-revoked-bob-Zq7"
CANARIES = (MASTER_KEY, *KEYS.values(), REVOKED)
POLICY = f"""\
master: {BTC}
followers:
  - user: {ALICE}
  - user: {BOB}
  - user: {CAROL}
"""


def _clean(where: str, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    for canary in CANARIES:
        assert canary.encode() not in data, f"{canary} leaked into {where}"


@pytest.fixture
async def bpx() -> AsyncIterator[BpxServer]:
    async with bpx_sim(seed=13) as server:
        yield server


@pytest.mark.slow
async def test_every_accounts_key_stays_out_of_every_output(bpx: BpxServer, tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    write_policy(policies, "btc.yaml", POLICY)
    write_policy(policies, "eth.yaml", f"master: {ETH}\nfollowers:\n  - user: {CAROL}\n")
    db = tmp_path / "data" / "ct.db"
    db.parent.mkdir()
    env = subprocess_env(
        COPYTRADER_PLATFORM="botprimex",
        COPYTRADER_API_URL=bpx.url,
        COPYTRADER_API_KEY=MASTER_KEY,
        COPYTRADER_ACCOUNTS_FILE=str(write_accounts(tmp_path)),
        COPYTRADER_DATABASE_URL=f"sqlite:///{db}",
        COPYTRADER_POLICY_DIR=str(policies),
    )
    revoked = tmp_path / "revoked"
    revoked.mkdir()
    outputs: list[tuple[str, int, str, str]] = []

    async def cli(name: str, *args: str, **changes: str) -> None:
        code, out, err = await run_cli(*args, env={**env, **changes})
        outputs.append((name, code, out, err))

    await cli("policy check", "policy", "check")
    await cli("plan", "plan", "--json")
    await cli("reconcile", "reconcile", "--json")
    bpx.state.edit_out_of_band(BTC, {"stake_amount": 150})
    await cli("drift", "drift", "--json")
    await cli("reconcile again", "reconcile", "--json")
    await asyncio.gather(cli("status", "status", "--json"), cli("audit", "audit", "--json"))
    # Failing platforms: unreachable, 500 on everything, a refused follower key, a refused
    # master key.
    await cli(
        "unreachable", "reconcile", "--json", COPYTRADER_API_URL=f"http://127.0.0.1:{free_port()}"
    )
    bpx.state.faults.add(Fault(path="*", kind="500", times=-1))
    await cli("500s", "reconcile", "--json")
    bpx.state.faults.clear()
    bad_file = write_accounts(revoked, {**KEYS, BOB: REVOKED})
    await cli("401 follower", "reconcile", "--json", COPYTRADER_ACCOUNTS_FILE=str(bad_file))
    await cli("401 follower check", "policy", "check", COPYTRADER_ACCOUNTS_FILE=str(bad_file))
    await cli("401 master", "reconcile", "--json", COPYTRADER_API_KEY=REVOKED)

    codes = {name: code for name, code, _, _ in outputs}
    assert codes["policy check"] == 0 and codes["reconcile"] == 0, outputs
    assert codes["401 follower"] == 1 and codes["401 follower check"] == 2, codes
    assert codes["401 master"] == 1 and codes["500s"] == 1 and codes["unreachable"] == 1, codes
    for name, _, out, err in outputs:
        _clean(f"{name} stdout", out)
        _clean(f"{name} stderr", err)
        assert "Traceback" not in err, (name, err)

    port = free_port()
    daemon = DaemonProcess(
        {
            **env,
            "COPYTRADER_INTERVAL_SECONDS": "0.5",
            "COPYTRADER_HTTP_LISTEN": f"127.0.0.1:{port}",
        },
        tmp_path / "daemon.log",
        port,
    )
    await daemon.start()
    try:
        await daemon.wait_listening()
        await daemon.wait_for_a_pass()  # its logs and /metrics hold a pass's worth
        for path in ("/metrics", "/healthz"):
            status, body = await daemon.get(path)
            assert status in (200, 503), (path, status, body)
            _clean(path, body)
    finally:
        assert await daemon.terminate() == 0, daemon.tail()
    _clean("daemon log", daemon.log.read_bytes())
    for path in sorted(db.parent.iterdir()):
        _clean(path.name, path.read_bytes())
    assert len(bpx.state.bots_of(CAROL)) == 2


async def _echo(request: web.Request) -> web.Response:
    """A hostile platform: echoes the key header and the body into its error message."""
    raw = (await request.read()).decode()
    message = f"bad request from {request.headers.get('Authorization')}: {raw}"
    status = {"/account": 401, "/bots": 500}.get(request.path, 400)
    return web.json_response({"error": {"code": "echo", "message": message}}, status=status)


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_exception_messages_never_carry_an_accounts_key(echo_url: str) -> None:
    keys = {name: Secret(key) for name, key in KEYS.items()}
    async with BotPrimeXClient(echo_url, Secret(MASTER_KEY), keys, max_attempts=1) as client:
        calls = [
            client.master.call("account"),
            client.followers[ALICE].call("bots.list", query={"limit": "100"}),
            client.followers[BOB].edit("bot_x", {"name": "n", "stake_amount": 1}),
            client.followers[CAROL].call(
                "exchanges.connect",
                {
                    "exchange": "binance",
                    "api_key": KEYS[CAROL],
                    "api_secret": "canary-exchange-secret-77",
                },
            ),
        ]
        for call in calls:
            with pytest.raises(PlatformError) as info:
                await call
            text = f"{info.value!s} {info.value!r} {info.value.args!r}"
            _clean(f"{type(info.value).__name__} message", text)
            assert "canary-exchange-secret-77" not in text
        assert MASTER_KEY not in repr(client) and all(k not in repr(client) for k in KEYS.values())


async def test_the_daemon_refuses_a_group_readable_accounts_file(
    bpx: BpxServer, tmp_path: Path
) -> None:
    path = write_accounts(tmp_path, mode=0o640)
    env = subprocess_env(
        COPYTRADER_PLATFORM="botprimex",
        COPYTRADER_API_URL=bpx.url,
        COPYTRADER_API_KEY=MASTER_KEY,
        COPYTRADER_ACCOUNTS_FILE=str(path),
        COPYTRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'ct.db'}",
        COPYTRADER_POLICY_DIR=str(tmp_path),
    )
    code, out, err = await run_cli("run", env=env)
    assert code == 2 and out == "", err
    [line] = [line for line in err.splitlines() if line.strip()]
    assert str(path) in line and "group or others" in line
    assert bpx.state.requests == []
    _clean("run stderr", err)
