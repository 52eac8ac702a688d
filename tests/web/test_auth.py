"""Who may read the dashboard: open on loopback without a token; with a token, pages go to the
login form, the API answers 401, and a bearer header or the login form's cookie lets in.
Every response carries the strict security headers; the token reaches no log or cookie."""

from __future__ import annotations

import pytest
import structlog

from copytrader.reconcile import wiring
from copytrader.settings import Secret
from copytrader.web import auth, headers, login
from tests.web.conftest import SiteFactory
from tests.world import F1, GRID

TOKEN = "dash-token-canary-8c1e5f"


@pytest.fixture(autouse=True)
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(login, "WRONG_TOKEN_DELAY", 0.0)


async def test_a_token_gates_pages_api_and_events(svc: wiring.Service,
                                                  serve: SiteFactory) -> None:
    await svc.reconciler.run_pass()
    site = await serve(token=TOKEN, host="127.0.0.1")
    with structlog.testing.capture_logs() as logs:
        for path in ("/", f"/masters/{GRID}", f"/masters/{GRID}/followers/{F1}", "/audit?x=1"):
            status, hdrs, _ = await site.get(path)
            assert status == 303 and hdrs["Location"].startswith("/login?next="), path
        for path in ("/api/masters", f"/api/masters/{GRID}/clones", "/api/audit",
                     "/api/events", "/healthz"):
            status, hdrs, _ = await site.get(path)
            assert status == 401 and hdrs["WWW-Authenticate"] == "Bearer", path
            status, _, _ = await site.get(path, headers={"Authorization": "Bearer nope"})
            assert status == 401, path
        status, _, body = await site.get("/api/masters",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and GRID in body
        # the login form and the static files need no token (they hold no data)
        assert (await site.get("/login"))[0] == 200
        assert (await site.get("/static/app.css"))[0] == 200

        # a wrong token: the form again, 401, no cookie
        async with site.session.post(site.url + "/login", data={"token": "wrong", "next": "/"},
                                     allow_redirects=False) as resp:
            assert resp.status == 401 and auth.COOKIE not in resp.cookies
            assert "not the token" in await resp.text()
        # the right one: a session cookie, then on to where the person was going
        async with site.session.post(site.url + "/login",
                                     data={"token": TOKEN, "next": f"/masters/{GRID}"},
                                     allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == f"/masters/{GRID}"
            cookie = resp.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        assert TOKEN not in cookie
        for path in ("/", f"/masters/{GRID}", "/api/masters", "/audit"):
            assert (await site.get(path))[0] == 200, path
        async with site.session.get(site.url + "/api/events") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/event-stream")
        # signing out forgets the cookie
        async with site.session.post(site.url + "/logout", allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/login"
        assert (await site.get("/"))[0] == 303
    assert TOKEN not in repr(logs)


async def test_sign_in_from_another_site_and_open_redirects_are_refused(
        svc: wiring.Service, serve: SiteFactory) -> None:
    site = await serve(token=TOKEN)
    for foreign in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                    {"Sec-Fetch-Site": "cross-site", "Origin": site.url},
                    {"Sec-Fetch-Site": "same-site"}):
        async with site.session.post(site.url + "/login", data={"token": TOKEN},
                                     headers=foreign, allow_redirects=False) as resp:
            assert resp.status == 403 and auth.COOKIE not in resp.cookies, foreign
    for own in ({"Origin": site.url}, {"Sec-Fetch-Site": "same-origin", "Origin": "null"}):
        async with site.session.post(site.url + "/login", data={"token": TOKEN},
                                     headers=own, allow_redirects=False) as resp:
            assert resp.status == 303 and auth.COOKIE in resp.cookies, own
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "x"):
        async with site.session.post(site.url + "/login", data={"token": TOKEN, "next": target},
                                     allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/", target


async def test_open_on_loopback_without_a_token(svc: wiring.Service,
                                                serve: SiteFactory) -> None:
    await svc.reconciler.run_pass()
    site = await serve()
    assert (await site.get("/"))[0] == 200
    assert (await site.get("/api/masters"))[0] == 200
    status, hdrs, _ = await site.get("/login")
    assert status == 303 and hdrs["Location"] == "/"


async def test_every_response_carries_the_security_headers(svc: wiring.Service,
                                                           serve: SiteFactory) -> None:
    await svc.reconciler.run_pass()
    site = await serve()
    for path, cache in [("/", "no-store"), (f"/masters/{GRID}", "no-store"),
                        ("/api/masters", "no-store"), ("/masters/nope", "no-store"),
                        ("/healthz", "no-store"), ("/static/app.js", "public, max-age=86400"),
                        ("/static/vendor/uplot/uPlot.iife.min.js", "public, max-age=86400"),
                        ("/static/nope.js", "no-store")]:
        _, hdrs, _ = await site.get(path)
        for name, value in headers.HEADERS.items():
            assert hdrs.get(name) == value, (path, name)
        assert hdrs["Cache-Control"] == cache, path
    csp = headers.CSP
    assert "script-src 'self'" in csp and "unsafe" not in csp and "default-src 'none'" in csp


def test_token_checks() -> None:
    assert auth.require_token("127.0.0.1", Secret("")) is None
    assert auth.require_token("::1", Secret("t")) == Secret("t")
    with pytest.raises(Exception, match="--listen"):
        auth.require_token("0.0.0.0", Secret(""), setting="--listen")
    assert auth.session_value(Secret("a")) != auth.session_value(Secret("b"))
    assert "a" * 10 not in auth.session_value(Secret("a" * 10))
    assert auth.safe_next("/masters/x?page=2") == "/masters/x?page=2"
    for bad in (None, "", "//x", "http://x/", "javascript:alert(1)", "/\\x"):
        assert auth.safe_next(bad) == "/"
