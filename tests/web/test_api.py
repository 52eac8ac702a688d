"""The JSON API against a database filled by real passes over the simulator: every document
is what the database holds, pages chain to the end, bad parameters are 400s naming them."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from urllib.parse import quote

from copytrader.reconcile import wiring
from copytrader.settings import Settings
from copytrader.sim.haas.server import SimServer
from copytrader.store import queries
from tests.web.conftest import GRID_POLICY, SiteFactory
from tests.world import F1, F2, F3, GRID, write_policy


async def passes(svc: wiring.Service, n: int) -> list[str]:
    runs = []
    for _ in range(n):
        result = await svc.reconciler.run_pass()
        assert result.state == "ok", result
        runs.append(result.run_id)
    return runs


def rows(settings: Settings, sql: str, *args: object) -> list[tuple[object, ...]]:
    path = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return list(conn.execute(sql, args).fetchall())


async def test_masters_are_the_status_counts_with_names(svc: wiring.Service,
                                                        serve: SiteFactory) -> None:
    site = await serve()
    empty = await site.json("/api/masters")
    assert empty == {"masters": [], "counts": [], "risk_stops": [], "last_pass": None}
    runs = await passes(svc, 2)
    doc = await site.json("/api/masters")
    status = await queries.status(svc.store)
    assert [{k: v for k, v in m.items() if k != "name"} for m in doc["masters"]] == \
        status["masters"]
    (grid,) = doc["masters"]
    assert grid["name"] == "Spot Grid Bot · BITMEXSPOT_ETH_USDT_"
    assert (grid["followers"], grid["clones"], grid["in_sync"], grid["paused"]) == (3, 3, 3, 1)
    # counts other features add to status show as extra columns
    assert doc["counts"] == [
        "suspected_duplicates", "adopt_candidates", "risk_stopped", "platform_carried"
    ]
    assert doc["risk_stops"] == status["risk_stops"] == []
    assert doc["last_pass"]["run_id"] == runs[-1] and doc["last_pass"]["state"] == "ok"


async def test_clone_pages_chain_to_the_end(svc: wiring.Service, serve: SiteFactory,
                                            settings: Settings) -> None:
    await passes(svc, 2)
    site = await serve()
    url, seen = f"/api/masters/{GRID}/clones?sort=follower&limit=2", []
    while url:
        doc = await site.json(url)
        assert doc["total"] == 3 and len(doc["items"]) <= 2
        seen += [item["follower"] for item in doc["items"]]
        url = doc["next"]
    assert seen == sorted([F1, F2, F3])
    latest = rows(settings, "SELECT run_id FROM snapshots WHERE master = ? AND follower IS NULL "
                            "ORDER BY ts DESC LIMIT 1", GRID)[0][0]
    by_roi = await site.json(f"/api/masters/{GRID}/clones?sort=roi&dir=desc")
    assert by_roi["run_id"] == latest
    stored = dict(rows(settings, "SELECT follower, roi FROM snapshots WHERE run_id = ? AND "
                                 "follower IS NOT NULL", latest))
    assert {i["follower"]: i["roi"] for i in by_roi["items"]} == stored
    rois = [i["roi"] for i in by_roi["items"]]
    assert rois == sorted(rois, reverse=True)
    paused = next(i for i in by_roi["items"] if i["follower"] == F3)
    assert paused["paused"] is True and paused["status"] == "stopped" and paused["in_sync"]
    written = next(i for i in by_roi["items"] if i["follower"] == F1)
    assert written["last_write"] is not None and written["last_write"].endswith("Z")


async def test_series_are_the_stored_points(svc: wiring.Service, serve: SiteFactory,
                                            settings: Settings) -> None:
    await passes(svc, 4)
    site = await serve()
    doc = await site.json(f"/api/masters/{GRID}/series?range=1d&follower={F1}&follower={F2}")
    masters = rows(settings, "SELECT roi FROM snapshots WHERE master = ? AND follower IS NULL "
                             "ORDER BY ts", GRID)
    f1 = rows(settings, "SELECT roi FROM snapshots WHERE master = ? AND follower = ? "
                        "ORDER BY ts", GRID, F1)
    assert len(doc["t"]) == 4 and doc["t"] == sorted(doc["t"])
    assert doc["master_roi"] == [r[0] for r in masters]
    assert [f["follower"] for f in doc["followers"]] == [F1, F2]
    assert doc["followers"][0]["roi"] == [r[0] for r in f1]
    too_many = "&".join(f"follower=f{i}" for i in range(21))
    status, _, body = await site.get(f"/api/masters/{GRID}/series?{too_many}")
    assert status == 400 and "at most 20" in body


async def test_follower_settings_carry_their_layers_beside_the_clone(
        svc: wiring.Service, serve: SiteFactory, policy_dir: Path) -> None:
    await passes(svc, 1)
    site = await serve()
    doc = await site.json(f"/api/masters/{GRID}/followers/{F1}")
    by_key = {s["key"]: s for s in doc["settings"]}
    assert (by_key["stopValue"]["value"], by_key["stopValue"]["layer"]) == (4200, "override")
    assert (by_key["stopCondition"]["value"], by_key["stopCondition"]["layer"]) == (
        "Price", "defaults")
    assert (by_key["investmentAmount"]["value"], by_key["investmentAmount"]["layer"]) == (
        500, "scale")
    assert by_key["symbol"]["layer"] == "locked" and by_key["symbol"]["locked"] is True
    assert all(s["known"] and s["same"] for s in doc["settings"]), doc["settings"]
    assert doc["clone"]["in_sync"] is True and doc["desired_status"] == "running"
    assert doc["policy_file"].endswith("grid.yaml")
    f2 = await site.json(f"/api/masters/{GRID}/followers/{F2}")
    clamped = next(s for s in f2["settings"] if s["key"] == "investmentAmount")
    assert (clamped["value"], clamped["layer"]) == (800, "limit")
    f3 = await site.json(f"/api/masters/{GRID}/followers/{F3}")
    assert f3["desired_status"] == "stopped"

    # the follower leaves the policy: its clone's record stays, the page says why
    write_policy(policy_dir, "grid.yaml", GRID_POLICY.replace(f"  - user: {F2}\n", ""))
    gone = await site.json(f"/api/masters/{GRID}/followers/{F2}")
    assert gone["settings"] == [] and "no longer lists" in gone["settings_note"]
    shutil.rmtree(policy_dir)
    unreadable = await site.json(f"/api/masters/{GRID}/followers/{F1}")
    assert unreadable["settings"] == [] and "cannot be read" in unreadable["settings_note"]
    assert unreadable["clone"]["bot_id"] == doc["clone"]["bot_id"]


async def test_audit_filters_and_pages(svc: wiring.Service, serve: SiteFactory) -> None:
    await passes(svc, 2)
    site = await serve()
    everything = await queries.audit(svc.store)
    url, seen = "/api/audit?limit=3", []
    while url:
        doc = await site.json(url)
        seen += doc["items"]
        url = doc["next"]
    assert seen == list(reversed(everything))
    clones = await site.json(f"/api/audit?action=clone&master={GRID}&follower={F1}")
    assert [(e["action"], e["follower"]) for e in clones["items"]] == [("clone", F1)]
    future = await site.json("/api/audit?since=2999-01-01T00:00:00Z")
    assert future["items"] == [] and future["next"] is None
    recent = await site.json("/api/audit?since=1h")
    assert len(recent["items"]) == min(len(everything), 100)


async def test_bad_parameters_are_400s_naming_them(svc: wiring.Service,
                                                   serve: SiteFactory) -> None:
    await passes(svc, 1)
    site = await serve()
    for path, named in [
        (f"/api/masters/{GRID}/clones?sort=nope", "sort"),
        (f"/api/masters/{GRID}/clones?limit=100000", "limit"),
        (f"/api/masters/{GRID}/clones?offset=-1", "offset"),
        (f"/api/masters/{GRID}/series?range=2y", "range"),
        ("/api/audit?since=yesterday", "since"),
        ("/api/audit?before=nope", "before"),
        (f"/masters/{GRID}?page=0", "page"),
        (f"/masters/{GRID}?per=7", "per"),
        ("/audit?until=soon", "until"),
    ]:
        status, _, body = await site.get(path)
        assert status == 400, (path, status)
        assert named in body, (path, body)
    for path in (f"/api/masters/{quote('<nope>', safe='')}/clones",
                 f"/api/masters/{GRID}/followers/nobody", "/masters/nope",
                 f"/masters/{GRID}/followers/nobody"):
        status, _, body = await site.get(path)
        assert status == 404, (path, status, body)


async def test_a_risk_stop_shows_as_a_count_a_tag_and_a_reason(
        sim: SimServer, svc: wiring.Service, serve: SiteFactory, policy_dir: Path) -> None:
    write_policy(policy_dir, "grid.yaml", GRID_POLICY.replace(
        f"  - user: {F2}\n", f"  - user: {F2}\n    risk: {{min_roi_pct: -20}}\n"))
    await passes(svc, 1)
    bot = next(b for b in sim.state.bots_of(F2) if b["botId"] != GRID)["botId"]
    sim.state.set_roi(bot, -25.0)
    await svc.reconciler.run_pass()
    site = await serve()
    overview = await site.json("/api/masters")
    assert overview["masters"][0]["risk_stopped"] == 1
    (stop,) = overview["risk_stops"]
    assert (stop["follower"], stop["rule"], stop["value"], stop["threshold"]) == (
        F2, "min_roi_pct", -25.0, -20)
    status, _, page = await site.get(f"/masters/{GRID}")
    assert status == 200 and "Held stopped by a risk guard" in page
    assert "risk stop</span>" in page and "min_roi_pct" in page
    status, _, page = await site.get("/")
    assert status == 200 and "risk stopped" in page  # the count's column
    follower = await site.json(f"/api/masters/{GRID}/followers/{F2}")
    assert follower["risk_stop"]["rule"] == "min_roi_pct"
    status, _, page = await site.get(f"/masters/{GRID}/followers/{F2}")
    assert status == 200 and "Held stopped by a risk guard" in page
    unheld = await site.json(f"/api/masters/{GRID}/followers/{F1}")
    assert unheld["risk_stop"] is None
