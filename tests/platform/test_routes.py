"""The route table matches partner-api.md and classes every route for retries."""

from __future__ import annotations

from copytrader.platform.haas.routes import AUTH_HEADER, ROUTES, Route

#: Every row of partner-api.md's endpoint table (method, path).
PARTNER_API = {
    ("POST", "/bots/list"), ("POST", "/bots/user"), ("POST", "/bots/bot"),
    ("POST", "/bots/create"), ("POST", "/bots/edit"), ("POST", "/bots/clone"),
    ("POST", "/bots/start"), ("POST", "/bots/stop"), ("POST", "/bots/preview"),
    ("POST", "/bots/delete"), ("POST", "/bots/orders"), ("POST", "/bots/logs"),
    ("POST", "/bots/positions"), ("POST", "/bots/positions/closed"),
    ("POST", "/bots/positions/orders"), ("POST", "/bots/backtest"),
    ("GET", "/bots/backtest/{backtestId}/status"), ("GET", "/bots/backtest/{backtestId}/results"),
    ("GET", "/bots/backtest/{backtestId}/logs"), ("GET", "/bots/backtest/{backtestId}/positions"),
    ("POST", "/bots/backtest/{backtestId}/cancel"), ("GET", "/exchanges"), ("GET", "/markets"),
    ("GET", "/scripts"), ("POST", "/scripts/script"), ("POST", "/signals/signal"),
    ("POST", "/signals/send"), ("POST", "/users/list"), ("POST", "/users/user"),
    ("POST", "/users/create"), ("POST", "/users/delete"),
}


def test_every_documented_endpoint_has_exactly_one_route() -> None:
    paths = [(r.method, r.path) for r in ROUTES.values()]
    assert sorted(paths) == sorted(PARTNER_API)


def test_retry_classes() -> None:
    once = {name for name, r in ROUTES.items() if not r.retry_safe}
    assert {"bots.clone", "bots.create", "bots.start", "bots.delete"} <= once
    assert {"users.create", "users.delete", "signals.send", "backtest.run"} <= once
    assert ROUTES["bots.edit"].retry_safe and not ROUTES["bots.edit"].read
    assert ROUTES["bots.stop"].retry_safe and not ROUTES["bots.stop"].read
    for name in ("bots.list", "bots.user", "bots.bot", "scripts.list", "scripts.script",
                 "exchanges.list", "markets.list", "users.list", "users.user"):
        assert ROUTES[name].read and ROUTES[name].retry_safe, name


def test_only_users_create_carries_secrets() -> None:
    assert [n for n, r in ROUTES.items() if r.secret_body] == ["users.create"]


def test_table_is_read_only_and_paths_fill_quoted() -> None:
    try:
        ROUTES["bots.list"] = Route("GET", "/x", True)  # type: ignore[index]
    except TypeError:
        pass
    else:
        raise AssertionError("ROUTES must be immutable")
    assert AUTH_HEADER == "X-API-Key"
    route = ROUTES["backtest.status"]
    assert route.url_path({"backtestId": "a/b c"}) == "/bots/backtest/a%2Fb%20c/status"
