"""The dashboard's HTML pages: every master, one master, one follower, the audit trail.

Each page is rendered on the server from the same documents the JSON API returns; a page's
regions marked ``data-live`` are fetched again by the page's script when a pass ends.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from copytrader.store import auditlog
from copytrader.web import dashboard, masters, params, render, trail
from copytrader.web import follower as follower_mod
from copytrader.web.params import BadParam


def respond(request: web.Request, template: str, *, status: int = 200, **context: Any
            ) -> web.Response:
    """``template`` as an HTML response; every page knows whether sign-in is on."""
    board = dashboard.of(request)
    body = render.html(template, signed_in=board.token is not None, **context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def error(request: web.Request, status: int, message: str) -> web.Response:
    return respond(request, "error.html", status=status, title=f"{status}", message=message,
                   nav=None)


def series_url(master: str, followers: list[str], range_key: str) -> str:
    """The chart data URL of ``master`` with ``followers`` over ``range_key``."""
    query = [("range", range_key)] + [("follower", f) for f in followers]
    return f"/api/masters/{render.path_part(master)}/series?{urlencode(query)}"


async def overview(request: web.Request) -> web.Response:
    doc = await masters.overview(dashboard.of(request).store)
    return respond(request, "masters.html", title="Masters", nav="masters", doc=doc,
                   label=masters.label)


async def master(request: web.Request) -> web.Response:
    board = dashboard.of(request)
    master_id = request.match_info["master"]
    try:
        view = params.table_view(request.query)
        range_key = params.chart_range(request.query)
    except BadParam as exc:
        return error(request, 400, str(exc))
    doc = await masters.detail(board.store, master_id, view)
    if doc is None:
        return error(request, 404, f"no pass has recorded the master {master_id!r}")
    shown = [row["follower"] for row in doc["clones"]["items"][: params.CHART_FOLLOWERS]]
    return respond(
        request, "master.html", title=doc["name"] or master_id, nav="masters", doc=doc,
        view=view, view_params=view.params(), range_key=range_key, ranges=list(params.RANGES),
        page_sizes=params.PAGE_SIZES, series=series_url(master_id, shown, range_key),
        chart_followers=params.CHART_FOLLOWERS, label=masters.label,
    )


async def follower(request: web.Request) -> web.Response:
    board = dashboard.of(request)
    master_id, user = request.match_info["master"], request.match_info["follower"]
    try:
        range_key = params.chart_range(request.query)
        before = params.cursor(request.query)
    except BadParam as exc:
        return error(request, 400, str(exc))
    doc = await follower_mod.detail(board.store, board.load_policies, master_id, user)
    if doc is None:
        return error(request, 404, f"the database knows no clone of {master_id!r} for "
                                   f"{user!r}")
    events = await auditlog.page(board.store, auditlog.Filters(master=master_id, follower=user),
                                 limit=params.AUDIT_PAGE, before=before)
    return respond(
        request, "follower.html", title=f"{user} · {doc['name'] or master_id}", nav="masters",
        doc=doc, events=events, range_key=range_key, ranges=list(params.RANGES),
        series=series_url(master_id, [user], range_key),
    )


async def audit(request: web.Request) -> web.Response:
    board = dashboard.of(request)
    try:
        filters = params.audit_filters(request.query)
        limit = params.whole(request.query, "limit", params.AUDIT_PAGE, 1, params.API_MAX_LIMIT)
        before = params.cursor(request.query)
    except BadParam as exc:
        return error(request, 400, str(exc))
    doc = await trail.detail(board.store, filters, limit=limit, before=before)
    asked = {k: v for k, v in request.query.items() if k != "before"}
    return respond(request, "audit.html", title="Audit trail", nav="audit", doc=doc,
                   asked=asked)
