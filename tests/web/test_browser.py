"""The dashboard in a real browser (Debian's Chromium through Playwright) against a real daemon
subprocess and the simulator, all tests of the module sharing one daemon and one browser.

Each page shows what the database holds (read back with sqlite3 at the same pass); the chart
draws the master's and each follower's stored points; the audit filters narrow the rows; a
pass ending changes the master page without a reload; off loopback (``copytrader web``) the
pages need the token; a bot name and an audit detail holding ``<script>`` show as text; no
request leaves the page's origin and nothing breaks the Content-Security-Policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from copytrader.sim.haas.seed import DEMO
from copytrader.sim.haas.server import SimServer
from tests.daemon.conftest import KEY, daemon_env_for, free_port, wait_for
from tests.web.browser import ARGS, Traffic, chromium
from tests.world import demo_sim, write_policy

playwright_api = pytest.importorskip("playwright.async_api")
CHROMIUM = chromium()

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("browser")]

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "browser-token-canary-0f7d3a"
GRID = DEMO.spot_grid_master
F1, F2, F3, _ = DEMO.spot_followers
HOSTILE_MASTER = "0badc0de0badc0de0badc0de0badc0d"
HOSTILE = '<script>window.__pwned = 1</script><img src="/x-pwned" onerror="window.__pwned = 2">'
HOSTILE_POLICY = f"""\
master: {HOSTILE_MASTER}
followers:
  - user: {F2}
"""
BROKEN_POLICY = """\
master: 0000000000000000000000000000dead
"<script>window.__pwned = 3</script>": 1
followers: []
"""


@dataclass
class World:
    sim: SimServer
    policy_dir: Path
    db: Path
    url: str
    proc: asyncio.subprocess.Process
    log: Path

    def rows(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        if not self.db.exists():
            return []
        with contextlib.closing(sqlite3.connect(self.db, timeout=5)) as conn:
            try:
                return list(conn.execute(sql, args).fetchall())
            except sqlite3.OperationalError:  # the schema is not there yet
                return []


def epoch(text: str) -> float:
    """A timestamp as SQLite holds it (UTC wall time) in Unix seconds."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


async def stop(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(proc.wait(), 15)
    except TimeoutError:
        proc.kill()
        return await proc.wait()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    folder = tmp_path_factory.mktemp("browser")
    policy_dir = folder / "policies"
    policy_dir.mkdir()
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        shutil.copy(path, policy_dir / path.name)
    write_policy(policy_dir, "hostile.yaml", HOSTILE_POLICY)
    write_policy(policy_dir, "broken.yaml", BROKEN_POLICY)
    async with demo_sim(KEY, seed=5) as sim:
        # A master whose market name is hostile text from the platform.
        sim.state.create_bot(DEMO.spot_owner, "spot_dollar_cost_averaging",
                             {"symbol": HOSTILE, "investmentAmount": 100},
                             bot_id=HOSTILE_MASTER)
        db = folder / "ct.db"
        env = daemon_env_for(sim, policy_dir, f"sqlite:///{db}")
        port = free_port()
        env.update(COPYTRADER_HTTP_LISTEN=f"127.0.0.1:{port}", COPYTRADER_INTERVAL_SECONDS="2",
                   COPYTRADER_LOG_FILE=str(folder / "daemon.log"))
        with (folder / "stderr.txt").open("wb") as stderr:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "copytrader.cli.main", "run", env=env, cwd=folder,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=stderr)
        w = World(sim, policy_dir, db, f"http://127.0.0.1:{port}", proc, folder / "daemon.log")
        try:
            # converged: every listed follower of the three demo masters in sync, twice over
            await wait_for(lambda: len(w.rows(
                "SELECT run_id FROM runs WHERE state = 'ok'")) >= 2 and w.rows(
                "SELECT 1 FROM snapshots WHERE master = ? AND follower IS NULL", GRID),
                "two passes", within=60)
            yield w
        finally:
            code = await stop(proc)
            assert code == 0, (folder / "stderr.txt").read_text()[-3000:]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser(world: World) -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Any, world: World) -> AsyncIterator[tuple[Any, Traffic]]:
    """A fresh page (light theme, laptop size) recording its requests and complaints; the
    test fails if it asked anything of another origin or broke the CSP."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    traffic = Traffic()
    p = await context.new_page()
    p.on("request", lambda r: traffic.requests.append(r.url))
    p.on("console", lambda m: traffic.problems.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: traffic.problems.append(str(e)))
    try:
        yield p, traffic
    finally:
        await context.close()
    assert traffic.foreign({world.url}) == []
    assert traffic.problems == []


async def dom(p: Any, script: str) -> Any:
    """Read the page in one synchronous step (a live refresh cannot land half-way)."""
    return await p.evaluate(script)


CHART_DRAWN = "() => document.querySelector('[data-chart]').uplot !== undefined"
MASTER_PAGE = """() => ({
  pass: document.querySelector('#summary time:last-of-type').getAttribute('datetime'),
  rows: Array.from(document.querySelectorAll('#clones tbody tr')).map(tr => ({
    follower: tr.dataset.follower,
    cells: Array.from(tr.querySelectorAll('th, td')).map(c => c.innerText.trim()),
  })),
  chart: (() => { const el = document.querySelector('[data-chart]');
    return el.uplot ? {data: el.uplot.data, labels: el.uplot.series.map(s => s.label)}
                    : null; })(),
})"""


async def test_the_pages_show_what_the_database_holds(page: tuple[Any, Traffic],
                                                      world: World) -> None:
    p, _ = page
    await p.goto(world.url + "/")
    overview = await dom(p, """() => Array.from(document.querySelectorAll('#overview tbody tr'))
        .map(tr => ({master: tr.dataset.master,
                     cells: Array.from(tr.querySelectorAll('th, td')).map(c => c.innerText)}))""")
    masters = {r[0] for r in world.rows("SELECT DISTINCT master FROM snapshots")}
    assert {m["master"] for m in overview} == masters
    grid = next(m for m in overview if m["master"] == GRID)
    assert grid["cells"][0].startswith("Spot Grid Bot · BITMEXSPOT_ETH_USDT_")
    assert grid["cells"][4:7] == ["3", "3", "3"]  # followers, clones, in sync

    # the master page: the rows of the pass it names, as the database holds them
    await p.click(f"#overview a[href='/masters/{GRID}']")
    await p.wait_for_url(f"**/masters/{GRID}")
    await p.wait_for_function(CHART_DRAWN)
    shown = await dom(p, MASTER_PAGE)
    when = datetime.fromisoformat(shown["pass"].replace("Z", "+00:00")).timestamp()
    stored = {f: (status, roi, in_sync, paused) for f, status, roi, in_sync, paused, ts in
              world.rows("SELECT follower, status, roi, in_sync, paused, ts FROM snapshots "
                         "WHERE master = ? AND follower IS NOT NULL", GRID)
              if abs(epoch(ts) - when) < 1e-3}
    assert sorted(r["follower"] for r in shown["rows"]) == sorted(stored) == sorted([F1, F2, F3])
    for row in shown["rows"]:
        status, roi, in_sync, paused = stored[row["follower"]]
        follower_cell, status_cell, roi_cell, _gap, sync_cell, _last = row["cells"]
        assert status_cell == status and roi_cell == f"{roi:.2f} %"
        assert sync_cell.startswith("yes" if in_sync else "no")
        assert ("paused" in follower_cell) == bool(paused)

    # the chart: a master series and a series per follower, each point a stored one
    chart = shown["chart"]
    assert chart["labels"][-1] == "master"
    assert sorted(chart["labels"][1:-1]) == sorted(f[:8] for f in (F1, F2, F3))
    xs = chart["data"][0]
    assert len(xs) >= 2
    master_rows = {round(epoch(ts), 3): roi for ts, roi in world.rows(
        "SELECT ts, roi FROM snapshots WHERE master = ? AND follower IS NULL", GRID)}
    assert [master_rows[round(x, 3)] for x in xs] == chart["data"][-1]
    first = chart["labels"][1]
    follower = next(f for f in (F1, F2, F3) if f.startswith(first))
    clone_rows = {round(epoch(ts), 3): roi for ts, roi in world.rows(
        "SELECT ts, roi FROM snapshots WHERE master = ? AND follower = ?", GRID, follower)}
    assert [clone_rows.get(round(x, 3)) for x in xs] == chart["data"][1]
    if os.environ.get("COPYTRADER_SCREENSHOT_DIR"):  # the README's picture
        await wait_for(lambda: len(world.rows("SELECT 1 FROM snapshots WHERE master = ? AND "
                                              "follower IS NULL", GRID)) >= 30,
                       "a chart worth a picture", within=100)
        await p.reload()
        await p.wait_for_function(CHART_DRAWN)
        await p.screenshot(path=str(Path(os.environ["COPYTRADER_SCREENSHOT_DIR"]) /
                                    "dashboard-master.png"), full_page=True)

    # keyboard: arrows move between rows, Enter opens the follower
    await p.focus("#clones tbody tr:first-child a[data-row-link]")
    await p.keyboard.press("ArrowDown")
    second = await dom(p, "() => document.activeElement.closest('tr').dataset.follower")
    assert second == sorted([F1, F2, F3])[1]
    await p.keyboard.press("End")
    last = await dom(p, "() => document.activeElement.closest('tr').dataset.follower")
    assert last == sorted([F1, F2, F3])[-1]
    await p.keyboard.press("Enter")
    await p.wait_for_url(f"**/masters/{GRID}/followers/{last}")

    # the follower page: desired settings by layer beside the clone's, and its events
    settings = await dom(p, """() => Object.fromEntries(Array.from(
        document.querySelectorAll('table.settings tbody tr')).map(tr => [tr.dataset.key,
        Array.from(tr.querySelectorAll('td')).map(c => c.innerText.trim())]))""")
    assert settings["stopValue"][:2] == ["3200", "override"]  # F1's own override
    assert settings["stopCondition"][:2] == ["Price", "override"]
    assert settings["symbol"][1] == "locked"  # the layer names the lock (no second tag)
    assert all(cells[3] == "yes" for cells in settings.values()), settings
    events = await dom(p, "() => document.querySelectorAll('#events tbody tr').length")
    stored_events = world.rows("SELECT COUNT(*) FROM audit_events WHERE master = ? AND "
                               "follower = ?", GRID, last)[0][0]
    assert events == min(stored_events, 50) and events > 0


async def test_a_phone_and_the_dark_theme(browser: Any, world: World) -> None:
    context = await browser.new_context(viewport={"width": 375, "height": 740},
                                        color_scheme="dark", is_mobile=True, has_touch=True)
    try:
        p = await context.new_page()
        for path in ("/", f"/masters/{GRID}", f"/masters/{GRID}/followers/{F1}", "/audit"):
            await p.goto(world.url + path)
            fits = await p.evaluate(
                "() => document.documentElement.scrollWidth <= window.innerWidth + 1")
            assert fits, f"{path} scrolls sideways on a phone"
        colours = await p.evaluate("""() => [getComputedStyle(document.body).backgroundColor,
                                             getComputedStyle(document.body).color]""")

        def light(rgb: str) -> float:
            r, g, b = (int(v) for v in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3])
            return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

        background, text = colours
        assert light(background) < 0.2 < 0.7 < light(text), colours
    finally:
        await context.close()


async def test_the_audit_filters_narrow_the_rows(page: tuple[Any, Traffic],
                                                 world: World) -> None:
    p, _ = page
    await p.goto(world.url + "/audit")
    everything = await p.locator("#trail tbody tr").count()
    assert everything == min(world.rows("SELECT COUNT(*) FROM audit_events")[0][0], 50)
    await p.select_option("select[name=action]", "clone")
    await p.fill("input[name=master]", GRID)
    await p.click("form.filters button[type=submit]")
    await p.wait_for_url("**/audit?*action=clone*")
    actions = await p.locator("#trail tbody tr .action").all_inner_texts()
    clones = world.rows("SELECT COUNT(*) FROM audit_events WHERE action = 'clone' AND "
                        "master = ?", GRID)[0][0]
    assert actions == ["clone"] * clones and 0 < clones < everything
    await p.fill("input[name=follower]", F1)
    await p.click("form.filters button[type=submit]")
    await p.wait_for_url(f"**follower={F1}*")
    assert await p.locator("#trail tbody tr").count() == world.rows(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'clone' AND master = ? AND "
        "follower = ?", GRID, F1)[0][0]
    await p.fill("input[name=since]", "2999-01-01")
    await p.click("form.filters button[type=submit]")
    await p.wait_for_url("**since=2999*")
    assert await p.locator("#trail tbody tr").count() == 0
    assert await p.locator("#trail .empty").is_visible()


async def test_a_pass_ending_updates_the_master_page_without_a_reload(
        page: tuple[Any, Traffic], world: World) -> None:
    p, _ = page
    loads: list[str] = []
    p.on("load", lambda: loads.append("load"))
    await p.goto(f"{world.url}/masters/{GRID}")
    await p.wait_for_selector("#live.on")
    await p.evaluate("() => { window.__sameDocument = true; }")
    loads.clear()
    before = (await dom(p, MASTER_PAGE))["pass"]
    # a pass ends: the page names the new pass, with no navigation
    await p.wait_for_function(
        "(before) => document.querySelector('#summary time:last-of-type')"
        ".getAttribute('datetime') !== before", arg=before, timeout=20_000)
    # a change a person makes: F2 paused in the policy file; the page follows it
    grid_policy = world.policy_dir / "eth-grid.yaml"
    original = grid_policy.read_text(encoding="utf-8")
    paused = original.replace("    scale:\n      investmentAmount: 0.5\n",
                              "    scale:\n      investmentAmount: 0.5\n    paused: true\n")
    assert paused != original
    row = f"#clones tr[data-follower='{F2}']"
    try:
        grid_policy.write_text(paused, encoding="utf-8")
        await p.wait_for_selector(f"{row} .tag:text('paused')", timeout=30_000)
        await p.wait_for_selector(f"{row} .chip-stopped", timeout=30_000)
    finally:
        grid_policy.write_text(original, encoding="utf-8")
    await p.wait_for_selector(f"{row} .chip-running", timeout=30_000)
    assert await p.evaluate("() => window.__sameDocument") is True
    assert loads == []
    assert int(await p.get_attribute("body", "data-refreshes") or 0) >= 2


async def test_hostile_text_from_the_platform_and_a_policy_shows_as_text(
        page: tuple[Any, Traffic], world: World) -> None:
    p, _ = page
    await wait_for(lambda: world.rows("SELECT 1 FROM master_states WHERE master = ?",
                                      HOSTILE_MASTER), "the hostile master recorded")
    for path in ("/", f"/masters/{HOSTILE_MASTER}",
                 f"/masters/{HOSTILE_MASTER}/followers/{F2}", "/audit?action=policy_invalid"):
        await p.goto(world.url + path)
        await p.wait_for_load_state("load")
        body = await p.inner_text("main")
        if "policy_invalid" in path:
            assert "<script>window.__pwned = 3</script>" in body
        else:
            assert HOSTILE in body, path
        assert await p.evaluate("() => window.__pwned") is None, path
        injected = await p.evaluate(
            "() => document.querySelectorAll('main script, main img').length")
        assert injected == 0, path


async def test_off_loopback_the_pages_need_the_token(browser: Any, world: World) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYTRADER_")}
    env.update(COPYTRADER_DATABASE_URL=f"sqlite:///{world.db}", PYTHONPATH=str(ROOT),
               COPYTRADER_POLICY_DIR=str(world.policy_dir), COPYTRADER_LOG_FORMAT="json")
    cli = [sys.executable, "-m", "copytrader.cli.main", "web", "--listen", f"0.0.0.0:{port}"]
    refused = await asyncio.create_subprocess_exec(*cli, env=env,
                                                   stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(refused.communicate(), 30)
    assert refused.returncode == 2 and out == b""
    assert len(err.decode().strip().splitlines()) == 1 and b"COPYTRADER_HTTP_TOKEN" in err

    proc = await asyncio.create_subprocess_exec(*cli, env={**env, "COPYTRADER_HTTP_TOKEN": TOKEN},
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    context = await browser.new_context()
    try:
        assert proc.stderr is not None
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert f"dashboard at http://0.0.0.0:{port}/" in line.decode()
        p = await context.new_page()
        traffic = Traffic()
        p.on("request", lambda r: traffic.requests.append(r.url))
        await p.goto(f"{url}/masters/{GRID}")
        assert "/login?next=" in p.url
        await p.fill("#token", "not-the-token")
        await p.click("form button[type=submit]")
        await p.wait_for_selector(".error-text:text('not the token')")
        await p.fill("#token", TOKEN)
        await p.click("form button[type=submit]")
        await p.wait_for_url(f"{url}/masters/{GRID}")
        await p.wait_for_function(CHART_DRAWN)
        (cookie,) = await context.cookies()
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
        assert TOKEN not in cookie["value"]
        assert await p.evaluate("() => document.cookie") == ""  # HttpOnly: not for scripts
        assert traffic.foreign({url}) == []
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/api/masters") as resp:
                assert resp.status == 401
            async with session.get(f"{url}/api/masters",
                                   headers={"Authorization": f"Bearer {TOKEN}"}) as resp:
                assert resp.status == 200 and GRID in await resp.text()
    finally:
        await context.close()
        assert await stop(proc) == 0
    _, rest = await proc.communicate()
    assert TOKEN.encode() not in rest
