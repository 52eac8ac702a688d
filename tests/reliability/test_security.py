"""Secrets stay secret, YAML stays data, the endpoint stays closed, the database stays private.

A canary API key and a canary exchange secret (a user created through ``/users/create``)
must never show in: any CLI or daemon output (also when the platform is unreachable, failing
or refusing the key), the database file bytes, the JSON documents, ``/metrics``,
``/healthz``, or an exception message.
"""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from copytrader.errors import PlatformError
from copytrader.platform.haas.client import PlatformClient
from copytrader.policy import loader
from copytrader.reconcile import wiring
from copytrader.settings import Secret
from copytrader.settings import load as load_settings
from copytrader.sim.haas import catalogue as sim_catalogue
from copytrader.sim.haas.seed import DEMO
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import Fault
from tests.reliability.conftest import F1, F4, GRID, KEY, SettingsFactory
from tests.reliability.corpus import cases as corpus
from tests.reliability.daemon import DaemonProcess, free_port
from tests.reliability.support import CLI, run_cli, subprocess_env
from tests.world import write_policy

SECRET = "canary-exchange-secret-Vb81Kq"
WRONG_KEY = "canary-wrong-key-Hs02Pd"
CANARIES = (KEY, SECRET, WRONG_KEY)
#: The example policies shipped with copytrader (the demo's).
EXAMPLES = {
    p.name: p.read_text(encoding="utf-8")
    for p in sorted(
        (Path(__file__).resolve().parents[2] / "copytrader" / "demo_policies").glob("*.yaml")
    )
}


def _clean(where: str, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    for canary in CANARIES:
        assert canary.encode() not in data, f"{canary} leaked into {where}"


async def _create_secret_user(url: str) -> str:
    async with PlatformClient(url, Secret(KEY)) as client:
        user = await client.call(
            "users.create",
            {
                "exchangeId": "BITMEXSPOT",
                "publicKey": "pub-canary-ok",
                "secretKey": SECRET,
                "extraKey": "",
                "exchangeUserId": "sec-test",
            },
        )
    assert isinstance(user, str)
    return user


@pytest.mark.slow
async def test_canaries_never_leak(sim: SimServer, policy_dir: Path, tmp_path: Path) -> None:
    user = await _create_secret_user(sim.url)
    write_policy(
        policy_dir, "grid.yaml", f"master: {GRID}\nfollowers:\n  - user: {F1}\n  - user: {user}\n"
    )
    db = tmp_path / "data" / "ct.db"
    db.parent.mkdir()
    env = subprocess_env(
        COPYTRADER_API_URL=sim.url,
        COPYTRADER_API_KEY=KEY,
        COPYTRADER_DATABASE_URL=f"sqlite:///{db}",
        COPYTRADER_POLICY_DIR=str(policy_dir),
    )
    outputs: list[tuple[str, int, str, str]] = []

    async def cli(name: str, *args: str, **changes: str) -> None:
        code, out, err = await run_cli(*args, env={**env, **changes})
        outputs.append((name, code, out, err))

    await cli("policy check", "policy", "check")
    await cli("plan", "plan", "--json")
    await cli("reconcile", "reconcile", "--json")
    sim.state.edit_out_of_band(GRID, {"stopExit": True})
    await cli("drift", "drift", "--json")
    await cli("reconcile again", "reconcile", "--json")
    await asyncio.gather(cli("status", "status", "--json"), cli("audit", "audit", "--json"))
    # Failing platforms: unreachable, 500 on everything, and a refused (wrong) key.
    await cli(
        "unreachable", "reconcile", "--json", COPYTRADER_API_URL=f"http://127.0.0.1:{free_port()}"
    )
    sim.state.faults.add(Fault(path="*", kind="500", times=-1))
    await cli("500s", "reconcile", "--json")
    sim.state.faults.clear()
    await cli("401", "reconcile", "--json", COPYTRADER_API_KEY=WRONG_KEY)

    codes = {name: code for name, code, _, _ in outputs}
    assert codes["policy check"] == 0 and codes["reconcile"] == 0, outputs
    assert codes["401"] == 1 and codes["500s"] == 1 and codes["unreachable"] == 1, codes
    assert '"action": "clone"' in next(out for n, _, out, _ in outputs if n == "reconcile")
    for name, _, out, err in outputs:
        _clean(f"{name} stdout", out)
        _clean(f"{name} stderr", err)
        assert "Traceback" not in err, (name, err)

    # The daemon: its logs, /metrics and /healthz.
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
    assert daemon.log.stat().st_size > 0

    for path in sorted(db.parent.iterdir()):
        _clean(path.name, path.read_bytes())
    assert sim.state.bots_of(user), "the secret user's clone was never made"


async def _echo(request: web.Request) -> web.Response:
    """A hostile platform: echoes the key header and the body into its error message."""
    raw = (await request.read()).decode()
    message = f"bad request from {request.headers.get('X-API-Key')}: {raw}"
    status = {"/users/create": 200, "/bots/list": 500, "/scripts": 401}.get(request.path, 400)
    return web.json_response(
        {"isSuccess": False, "code": 7, "message": message, "data": None}, status=status
    )


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


async def test_canaries_never_leak_from_the_strategy_managers_tools(
    sim: SimServer, policy_dir: Path, tmp_path: Path
) -> None:
    user = await _create_secret_user(sim.url)
    grid = write_policy(
        policy_dir, "grid.yaml", f"master: {GRID}\nfollowers:\n  - user: {F1}\n  - user: {user}\n"
    )
    env = subprocess_env(
        COPYTRADER_API_URL=sim.url,
        COPYTRADER_API_KEY=KEY,
        COPYTRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'ct.db'}",
        COPYTRADER_POLICY_DIR=str(policy_dir),
        COPYTRADER_RATE_LIMIT_PER_MINUTE="6000",
    )
    runs = {
        "explain": ("explain", GRID, user, "--json"),
        "backtest": ("policy", "backtest", str(grid), "--json"),
        "follower pause": ("follower", "pause", str(grid), user),
        "follower refused": ("follower", "add", str(grid), "no-such-user"),
        "explain, key refused": ("explain", GRID, user),
    }
    outputs = {}
    for name, args in runs.items():
        changes = {"COPYTRADER_API_KEY": WRONG_KEY} if "refused" in name and "key" in name else {}
        outputs[name] = await run_cli(*args, env={**env, **changes})
    codes = {name: code for name, (code, _, _) in outputs.items()}
    assert codes == {"explain": 0, "backtest": 0, "follower pause": 0, "follower refused": 2,
                     "explain, key refused": 1}, outputs
    for name, (_, out, err) in outputs.items():
        _clean(f"{name} stdout", out)
        _clean(f"{name} stderr", err)
        assert "Traceback" not in err, (name, err)
    _clean("the edited policy file", grid.read_bytes())


async def test_exception_messages_never_carry_secrets(echo_url: str) -> None:
    async with PlatformClient(echo_url, Secret(KEY), max_attempts=1) as client:
        calls = [
            client.call(
                "users.create",
                {"exchangeId": "BITMEXSPOT", "publicKey": "p", "secretKey": SECRET, "extraKey": ""},
            ),
            client.call("bots.list", {"limit": -1, "nextPageId": ""}),
            client.call("scripts.list"),
            client.edit_bot(F1, "bot", {"stopValue": 1}),
        ]
        for call in calls:
            with pytest.raises(PlatformError) as info:
                await call
            text = f"{info.value!s} {info.value!r} {info.value.args!r}"
            _clean(f"{type(info.value).__name__} message", text)
    assert repr(Secret(KEY)) == "Secret('**********')"


def test_yaml_python_tags_are_refused_not_run(tmp_path: Path) -> None:
    source = corpus.FOLDER / "tag_python_object.yaml"
    policy, problems = loader.load_file(source)
    assert policy is None
    assert any("tag !!python/object/apply:os.system is not allowed" in str(p) for p in problems)
    assert not Path("/tmp/copytrader-pwned").exists()


def test_endpoint_listens_on_loopback_by_default() -> None:
    settings = load_settings(
        {"COPYTRADER_API_URL": "http://127.0.0.1:9", "COPYTRADER_API_KEY": KEY}
    )
    assert settings.daemon.http_listen[0] in ("127.0.0.1", "::1", "localhost")


async def test_non_loopback_endpoint_needs_a_token(
    sim: SimServer, policy_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = subprocess_env(
        COPYTRADER_API_URL=sim.url,
        COPYTRADER_API_KEY=KEY,
        COPYTRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'ct.db'}",
        COPYTRADER_POLICY_DIR=str(policy_dir),
        COPYTRADER_HTTP_LISTEN=f"0.0.0.0:{port}",
    )
    code, _, err = await run_cli("run", env=env)
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "COPYTRADER_HTTP_TOKEN" in lines[0], err

    token = "canary-http-token-Zt55"
    daemon = DaemonProcess(
        {**env, "COPYTRADER_HTTP_TOKEN": token, "COPYTRADER_INTERVAL_SECONDS": "30"},
        tmp_path / "d.log",
        port,
    )
    await daemon.start()
    try:
        await daemon.wait_listening(token=token)
        for path in ("/healthz", "/metrics", "/api/masters", "/api/audit", "/api/events"):
            assert (await daemon.get(path))[0] == 401
            assert (await daemon.get(path, token="wrong-token"))[0] == 401
        for path in ("/healthz", "/metrics"):
            assert (await daemon.get(path, token=token))[0] in (200, 503)
        # the dashboard: a page without the token is the login form, with it the page
        status, body = await daemon.get("/audit")
        assert status == 200 and 'action="/login"' in body and "Audit trail" not in body
        for path in ("/", "/audit", "/api/masters", "/api/audit"):
            status, body = await daemon.get(path, token=token)
            assert status == 200 and token not in body, path
    finally:
        assert await daemon.terminate() == 0, daemon.tail()
    assert token not in daemon.log.read_text()


async def test_sqlite_file_is_private_even_with_umask_0(
    sim: SimServer, policy_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "fresh" / "ct.db"
    db.parent.mkdir()
    env = subprocess_env(
        COPYTRADER_API_URL=sim.url,
        COPYTRADER_API_KEY=KEY,
        COPYTRADER_DATABASE_URL=f"sqlite:///{db}",
        COPYTRADER_POLICY_DIR=str(policy_dir),
    )
    proc = await asyncio.create_subprocess_exec(
        "sh",
        "-c",
        'umask 000; exec "$@"',
        "sh",
        *CLI,
        "reconcile",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    for path in db.parent.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path.name, oct(path.stat().st_mode))


async def test_no_setting_key_outside_the_catalogue_is_ever_sent(
    sim: SimServer, make_settings: SettingsFactory, policy_dir: Path
) -> None:
    (policy_dir / "grid.yaml").unlink()
    for name, text in EXAMPLES.items():
        write_policy(policy_dir, name, text)
    evil = "e" * 32  # a master of its own, so the file is checked against the catalogue
    sim.state.create_bot(DEMO.spot_owner, "spot_grid", sim.state.bot(GRID)["settings"], bot_id=evil)
    write_policy(
        policy_dir,
        "evil.yaml",
        f"master: {evil}\nfollowers:\n  - user: {F4}\n    overrides: {{evilKey: 1}}\n",
    )
    async with wiring.open_writer(make_settings()) as svc:
        first = await svc.reconciler.run_pass()
        assert [(Path(p.file).name, p.message) for p in first.problems] == [
            (
                "evil.yaml",
                "unknown setting 'evilKey' for bot type spot_grid (its settings: gridCount, "
                "gridMode, investmentAmount, investmentAsset, lowerLimit, startCondition, "
                "startType, startValue, stopCondition, stopExit, stopType, stopValue, symbol, "
                "tradeToFillGrid, upperLimit)",
            )
        ]
        for master in (
            "6dafad4e364449c9906296aab8eff2f7",
            "bedc8bb485514565b64a728fc0886a95",
            "7d7e643ac399492c8adf1add09316abb",
        ):
            sim.state.edit_out_of_band(
                master, {"stopLoss": 12} if master.startswith("7d") else {"stopExit": True}
            )
        second = await svc.reconciler.run_pass()
        assert second.state == "ok", second.to_json()
    keys = {s["type"]: {x["key"] for x in s["settings"]} for s in sim_catalogue.scripts()}
    sent = [r for r in sim.state.requests if r.path in ("/bots/edit", "/bots/clone")]
    assert {r.path for r in sent} == {"/bots/edit", "/bots/clone"}
    assert not [r for r in sim.state.requests if (r.body or {}).get("botId") == evil]
    for r in sent:
        body = r.body or {}
        bot = body["botId"]
        bot_type = sim.state.bot(bot)["type"]
        extra = set(body["settings"]) - keys[bot_type]
        assert not extra, (r.path, extra)
