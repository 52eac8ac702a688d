"""The read-only JSON API behind the pages (``/api/...``), paginated.

- ``GET /api/masters``: every master with ``status``'s counts, its name, and the last pass.
- ``GET /api/masters/{id}/clones?sort=&dir=&offset=&limit=``: a page of its clones (at most
  500), ``total`` and the ``next`` page's URL (null on the last page).
- ``GET /api/masters/{id}/series?range=1d|7d|30d|90d&follower=...``: ROI over time of the
  master and of up to 20 followers (sampled to at most 480 passes).
- ``GET /api/masters/{id}/followers/{user}``: desired settings with layers and the clone's.
- ``GET /api/audit?master=&follower=&action=&since=&until=&limit=&before=``: events newest
  first; ``next`` is the URL of the older page.
- ``GET /api/events``: pass ends as server-sent events.

A bad parameter is a 400 ``{"error": "..."}`` naming it; an unknown master or follower a 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from copytrader.store import auditlog
from copytrader.store import clones as clone_rows
from copytrader.web import dashboard, live, params, render
from copytrader.web import follower as follower_doc
from copytrader.web import masters as master_docs
from copytrader.web.params import BadParam


def _json(doc: Any, status: int = 200) -> web.Response:
    return web.json_response(doc, status=status)


def _bad(message: str, status: int = 400) -> web.Response:
    return _json({"error": message}, status)


async def masters(request: web.Request) -> web.Response:
    return _json(await master_docs.overview(dashboard.of(request).store))


async def clones(request: web.Request) -> web.Response:
    board = dashboard.of(request)
    master_id = request.match_info["master"]
    q = request.query
    try:
        offset = params.whole(q, "offset", 0, 0, 10**12)
        limit = params.whole(q, "limit", 100, 1, params.API_MAX_LIMIT)
        view = params.TableView(
            sort=params.choice(q, "sort", clone_rows.SORTS, "follower"),
            descending=params.choice(q, "dir", ("asc", "desc"), "asc") == "desc",
        )
    except BadParam as exc:
        return _bad(str(exc))
    found = await clone_rows.page(board.store, master_id, sort=view.sort,
                                     descending=view.descending, offset=offset, limit=limit)
    if found is None:
        return _bad(f"no pass has recorded the master {master_id!r}", 404)
    nxt = None
    if offset + limit < found.total:
        keep = {"sort": view.sort, "dir": "desc" if view.descending else "asc",
                "offset": offset + limit, "limit": limit}
        nxt = f"/api/masters/{render.path_part(master_id)}/clones?{urlencode(keep)}"
    return _json({
        "master": master_id,
        "run_id": found.head.run_id,
        "ts": render.iso(found.head.ts),
        "total": found.total,
        "offset": offset,
        "limit": limit,
        "items": [master_docs.clone_row(r) for r in found.rows],
        "next": nxt,
    })


async def series(request: web.Request) -> web.Response:
    board = dashboard.of(request)
    try:
        range_key = params.chart_range(request.query)
    except BadParam as exc:
        return _bad(str(exc))
    followers = [f for f in request.query.getall("follower", []) if f]
    if len(followers) > params.CHART_FOLLOWERS:
        return _bad(f"follower: at most {params.CHART_FOLLOWERS}, got {len(followers)}")
    return _json(await master_docs.roi_series(board.store, request.match_info["master"],
                                          followers, range_key))


async def follower(request: web.Request) -> web.Response:
    board = dashboard.of(request)
    master_id, user = request.match_info["master"], request.match_info["follower"]
    doc = await follower_doc.detail(board.store, board.load_policies, master_id, user)
    if doc is None:
        return _bad(f"the database knows no clone of {master_id!r} for {user!r}", 404)
    return _json(doc)


async def audit(request: web.Request) -> web.Response:
    board = dashboard.of(request)
    q = request.query
    try:
        filters = params.audit_filters(q)
        limit = params.whole(q, "limit", 100, 1, params.API_MAX_LIMIT)
        before = params.cursor(q)
    except BadParam as exc:
        return _bad(str(exc))
    found = await auditlog.page(board.store, filters, limit=limit, before=before)
    nxt = None
    if found.next is not None:
        keep = [(k, v) for k, v in q.items() if k != "before"] + [("before", found.next)]
        nxt = "/api/audit?" + urlencode(keep)
    return _json({"items": found.rows, "next": nxt, "limit": limit})


async def events(request: web.Request) -> web.StreamResponse:
    return await live.stream(request, dashboard.of(request).feed)
