"""The dashboard's routes on an aiohttp application.

Mounted on the daemon's listener (``copytrader run``, ``demo``) and by ``copytrader web``
(the database alone). Read-only: no route writes to the database or the platform. Pages are
server-rendered (:mod:`copytrader.web.pages`); the JSON behind them is under ``/api/``
(:mod:`copytrader.web.api`); static files come from the package, never from a CDN.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from copytrader.web import api, dashboard, headers, live, login, pages
from copytrader.web.render import STATIC_DIR


def mount(app: web.Application, board: dashboard.Dashboard) -> None:
    """Add the dashboard's routes, static files, security headers and pass poller to
    ``app``."""
    app[dashboard.KEY] = board
    app.router.add_get("/", pages.overview)
    app.router.add_get("/masters/{master}", pages.master)
    app.router.add_get("/masters/{master}/followers/{follower}", pages.follower)
    app.router.add_get("/audit", pages.audit)
    app.router.add_get("/login", login.form)
    app.router.add_post("/login", login.sign_in)
    app.router.add_post("/logout", login.sign_out)
    app.router.add_get("/api/masters", api.masters)
    app.router.add_get("/api/masters/{master}/clones", api.clones)
    app.router.add_get("/api/masters/{master}/series", api.series)
    app.router.add_get("/api/masters/{master}/followers/{follower}", api.follower)
    app.router.add_get("/api/audit", api.audit)
    app.router.add_get("/api/events", api.events)
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    app.cleanup_ctx.append(_poller(board))
    app.on_shutdown.append(_close_streams(board))
    headers.install(app)


def _poller(board: dashboard.Dashboard) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(live.poll_runs(board.store, board.feed, board.poll_seconds))
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return ctx


def _close_streams(board: dashboard.Dashboard) -> Callable[[web.Application],
                                                          Awaitable[None]]:
    async def close(_app: web.Application) -> None:
        board.feed.close()  # open event streams end now, not at the shutdown timeout

    return close
