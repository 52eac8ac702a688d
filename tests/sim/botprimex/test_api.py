"""The BotPrimeX simulator answers as botprimex-api.md says: every endpoint, every refusal
with its code, cursor pages, per-key rate limits, the control API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from copytrader.sim.botprimex.seed import DEMO
from copytrader.sim.botprimex.server import BpxServer
from tests.sim.botprimex.conftest import Bpx

BOT_KEYS = {
    "id",
    "name",
    "status",
    "exchange",
    "pair",
    "strategy",
    "stake_amount",
    "max_open_trades",
    "stop_loss",
    "dry_run",
    "created_at",
    "updated_at",
    "profit_usd",
    "profit_pct",
}
NEW: dict[str, Any] = {
    "name": "mine",
    "exchange": "binance",
    "pair": "BTC/USDT",
    "strategy": "dca",
    "stake_amount": 10,
    "max_open_trades": 2,
    "stop_loss": -10,
    "dry_run": False,
}
As = Callable[[str], Bpx]


async def test_a_key_is_a_whole_account(as_account: As) -> None:
    assert (await as_account("wrong-key").error("GET", "/bots")) == (401, "unauthorized")
    master = await as_account("master").ok("GET", "/bots")
    assert [b["id"] for b in master["data"]] == list(DEMO) and master["next_cursor"] is None
    assert set(master["data"][0]) == BOT_KEYS
    assert (await as_account("alice").ok("GET", "/bots")) == {"data": [], "next_cursor": None}
    # another account's bot: 403 for every object; no such bot: 404
    for method, path in (
        ("GET", f"/bots/{DEMO.btc_dca}"),
        ("POST", f"/bots/{DEMO.btc_dca}/stop"),
        ("DELETE", f"/bots/{DEMO.btc_dca}"),
        ("GET", f"/bots/{DEMO.btc_dca}/trades"),
    ):
        assert (await as_account("alice").error(method, path)) == (403, "forbidden")
    assert (await as_account("alice").error("GET", "/bots/bot_nope")) == (404, "not_found")
    account = await as_account("bob").ok("GET", "/account")
    assert (account["plan"], account["rate_limit_per_minute"]) == ("pro", 300)
    assert set(account) == {"id", "email", "plan", "rate_limit_per_minute"}
    assert (await as_account("bob").ok("GET", "/account/subscription"))["plan"] == "pro"


async def test_create_needs_all_eight_fields_on_a_connected_exchange(as_account: As) -> None:
    alice = as_account("alice")
    status, made = await alice.call("POST", "/bots", NEW)
    assert status == 201 and made["status"] == "stopped" and made["id"].startswith("bot_")
    for body, code in (
        ({k: v for k, v in NEW.items() if k != "pair"}, "invalid_field"),
        ({**NEW, "leverage": 3}, "invalid_field"),
        ({**NEW, "stake_amount": 0}, "invalid_field"),
        ({**NEW, "max_open_trades": 1.5}, "invalid_field"),
        ({**NEW, "stop_loss": 0}, "invalid_field"),
        ({**NEW, "stop_loss": -101}, "invalid_field"),
        ({**NEW, "strategy": "martingale"}, "invalid_field"),
        ({**NEW, "dry_run": "yes"}, "invalid_field"),
        ({**NEW, "exchange": "kraken"}, "exchange_not_connected"),
    ):
        assert (await alice.error("POST", "/bots", body)) == (400, code), body
    assert len((await alice.ok("GET", "/bots"))["data"]) == 1


async def test_lifecycle_refusals_name_the_state(as_account: As) -> None:
    alice = as_account("alice")
    bot = (await alice.ok("POST", "/bots", NEW))["id"]
    assert (await alice.error("POST", f"/bots/{bot}/stop")) == (400, "already_stopped")
    assert (await alice.ok("POST", f"/bots/{bot}/start"))["status"] == "running"
    assert (await alice.error("POST", f"/bots/{bot}/start")) == (400, "already_running")
    assert (await alice.error("DELETE", f"/bots/{bot}")) == (400, "bot_running")
    assert (await alice.error("PATCH", f"/bots/{bot}", {"dry_run": True})) == (400, "bot_running")
    for field, value in (("pair", "BTC/USDT"), ("exchange", "binance"), ("strategy", "dca")):
        # refused even with the current value
        assert (await alice.error("PATCH", f"/bots/{bot}", {field: value})) == (
            400,
            "immutable_field",
        )
    assert (await alice.error("PATCH", f"/bots/{bot}", {})) == (400, "invalid_field")
    assert (await alice.error("PATCH", f"/bots/{bot}", {"stake_amount": -1})) == (
        400,
        "invalid_field",
    )
    edited = await alice.ok("PATCH", f"/bots/{bot}", {"stake_amount": 12, "name": "renamed"})
    assert (edited["stake_amount"], edited["name"], edited["status"]) == (12, "renamed", "running")
    await alice.ok("POST", f"/bots/{bot}/stop")
    assert (await alice.ok("PATCH", f"/bots/{bot}", {"dry_run": True}))["dry_run"] is True
    status, body = await alice.call("DELETE", f"/bots/{bot}")
    assert (status, body) == (204, None)
    assert (await alice.error("GET", f"/bots/{bot}")) == (404, "not_found")


async def test_wrong_method_unknown_path_and_bad_json(
    as_account: As, bpx_server: BpxServer
) -> None:
    alice = as_account("alice")
    assert (await alice.error("PUT", "/bots")) == (405, "method_not_allowed")
    assert (await alice.error("GET", "/nothing")) == (404, "not_found")
    async with alice.session.post(
        bpx_server.url + "/bots", data=b"{nope", headers={"Authorization": f"Bearer {alice.key}"}
    ) as r:
        assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_field"


async def test_cursor_pages_list_each_bot_once(as_account: As) -> None:
    alice = as_account("alice")
    made = [(await alice.ok("POST", "/bots", {**NEW, "name": f"b{i}"}))["id"] for i in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = await alice.ok("GET", "/bots", params=query)
        seen += [b["id"] for b in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made
    for query in ({"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"cursor": "garbage"}):
        assert (
            await alice.error("GET", "/bots?" + "&".join(f"{k}={v}" for k, v in query.items()))
        ) == (400, "invalid_field")


async def test_each_key_has_its_plans_rate_limit(as_account: As, bpx_server: BpxServer) -> None:
    bpx_server.state.accounts["alice"].limit = 3
    alice, bob = as_account("alice"), as_account("bob")
    codes = [(await alice.call("GET", "/account"))[0] for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    async with alice.session.get(
        bpx_server.url + "/account", headers={"Authorization": f"Bearer {alice.key}"}
    ) as r:
        assert r.status == 429 and int(r.headers["Retry-After"]) >= 1
        assert (await r.json())["error"]["code"] == "rate_limited"
    assert (await bob.call("GET", "/account"))[0] == 200  # another key: its own window


async def test_exchanges_connect_and_disconnect_keep_keys_out_of_the_log(
    as_account: As, bpx_server: BpxServer
) -> None:
    dave = as_account("dave")
    assert [e["exchange"] for e in (await dave.ok("GET", "/exchanges"))["data"]] == ["kraken"]
    made = await dave.ok(
        "POST",
        "/exchanges",
        {"exchange": "binance", "api_key": "exch-key-1", "api_secret": "exch-secret-1"},
    )
    assert set(made) == {"id", "exchange", "created_at"}
    assert (await as_account("alice").error("DELETE", f"/exchanges/{made['id']}")) == (
        403,
        "forbidden",
    )
    assert (await dave.call("DELETE", f"/exchanges/{made['id']}"))[0] == 204
    logged = [r for r in bpx_server.state.requests if r.path == "/exchanges" and r.method == "POST"]
    assert logged[0].body == {"exchange": "binance", "api_key": "***", "api_secret": "***"}


async def test_control_api_faults_out_of_band_changes_and_request_log(
    as_account: As, bpx_server: BpxServer
) -> None:
    alice = as_account("alice")
    assert (
        await alice.ok(
            "POST", "/_sim/faults", {"path": "/bots/{id}/start", "kind": "500", "account": "alice"}
        )
        == 1
    )
    bot = (await alice.ok("POST", "/bots", NEW))["id"]
    assert (await alice.error("POST", f"/bots/{bot}/start")) == (500, "internal_error")
    assert (await alice.ok("POST", f"/bots/{bot}/start"))["status"] == "running"
    changed = await alice.ok(
        "POST", f"/_sim/bots/{bot}", {"status": "error", "fields": {"pair": "ETH/USDT"}}
    )
    assert (changed["status"], changed["pair"]) == ("error", "ETH/USDT")
    log = await alice.ok("GET", "/_sim/requests")
    assert [(r["method"], r["status"], r["account"]) for r in log][-2:] == [
        ("POST", 500, "alice"),
        ("POST", 200, "alice"),
    ]
    assert (await as_account("nobody").error("GET", "/_sim/requests")) == (401, "unauthorized")
