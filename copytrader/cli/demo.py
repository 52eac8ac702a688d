"""``copytrader demo``: the simulator, the daemon and the example policies, in one process.

Needs no network and no configuration: the simulator runs on a free loopback port with keys
of its own, the policies are the packaged examples written to ``<dir>/policies``, the database
is SQLite at ``<dir>/copytrader.db`` (started afresh, since the simulator is), and the daemon is
the same code ``copytrader run`` runs, with a 3-second interval. A few seconds after the first
pass the strategy manager edits a master through the platform API, and the next pass carries
the edit to every follower (the audit pane shows it). The daemon's dashboard listens on
``COPYTRADER_HTTP_LISTEN`` when it is set, else on a free loopback port; its URL is printed
on stderr as the demo starts. Ctrl-C or ``--seconds`` stops everything and prints a summary.
``--platform botprimex`` runs the BotPrimeX world (:mod:`copytrader.cli.demo_worlds`): a
master account and four follower accounts, whose keys go to ``<dir>/accounts.toml``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

import structlog
from rich.console import Console
from rich.live import Live

from copytrader import settings as settings_mod
from copytrader.cli import demo_view, demo_worlds
from copytrader.cli.demo_worlds import Running, World
from copytrader.core import words
from copytrader.daemon.app import Daemon
from copytrader.daemon.sdnotify import Notifier
from copytrader.observe import logging as obs_logging
from copytrader.observe import redact
from copytrader.reconcile import wiring
from copytrader.settings import DaemonSettings, PlatformSettings, Secret, Settings
from copytrader.store import queries, trades

log = structlog.get_logger("copytrader.demo")

INTERVAL = 3.0
EDIT_AFTER = 2.0  # seconds after the first pass


def run(args: argparse.Namespace) -> int:
    """Run the demo until Ctrl-C or ``args.seconds``; 0 on a clean stop."""
    base = settings_mod.load(config_file=args.config, require_platform=False)
    world = demo_worlds.world(args.platform)
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    for line in write_policies(folder / "policies", world.policies, reset=args.reset_policies):
        print(f"copytrader demo: {line}", file=sys.stderr)
    fresh_database(folder / "copytrader.db")
    log_file = None if args.headless else folder / "copytrader.log"
    obs_logging.configure(base.log_format, log_file)
    return asyncio.run(_main(args, base, world, folder, log_file))


def _examples(package: str) -> dict[str, str]:
    """File name -> text of the example policies of ``package``."""
    return {
        item.name: item.read_text(encoding="utf-8")
        for item in resources.files(package).iterdir()
        if item.name.endswith((".yaml", ".yml"))
    }


def write_policies(
    folder: Path, package: str = "copytrader.demo_policies", *, reset: bool = False
) -> list[str]:
    """Write the example policies of ``package`` into ``folder``: the missing ones, and
    those still as shipped. A person's edit is kept, as is a policy file that is none of
    these examples (unless ``reset``: then the examples replace the edits, and the other
    files go); an unedited example of another demo (the other platform's) is removed.
    Returns one line per file kept, replaced or removed for a person's sake."""
    folder.mkdir(parents=True, exist_ok=True)
    mine = _examples(package)
    shipped = {text for p in demo_worlds.POLICY_PACKAGES for text in _examples(p).values()}
    said = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".yaml", ".yml") or not path.is_file() or path.name in mine:
            continue
        if path.read_text(encoding="utf-8", errors="replace") in shipped:
            path.unlink()  # another demo's example, as shipped
        elif reset:
            path.unlink()
            said.append(f"removed {path}: not one of this demo's examples (--reset-policies)")
        else:
            said.append(f"keeping {path}: not one of this demo's examples, it is applied too "
                        "(--reset-policies removes it)")
    for name, example in sorted(mine.items()):
        target = folder / name
        if target.exists():
            text = target.read_text(encoding="utf-8", errors="replace")
            if text == example:
                continue
            if text in shipped:  # the other demo's example of the same name, as shipped
                target.write_text(example, encoding="utf-8")
                continue
            if not reset:
                said.append(f"keeping your edited {target} (--reset-policies restores the "
                            "example)")
                continue
            said.append(f"replaced your edited {target} with the example (--reset-policies)")
        target.write_text(example, encoding="utf-8")
    return said


def fresh_database(path: Path) -> None:
    """Remove an earlier demo's database: its clones lived in a simulator that is gone."""
    for candidate in (path, path.with_name(path.name + "-wal"),
                      path.with_name(path.name + "-shm")):
        candidate.unlink(missing_ok=True)


def demo_settings(base: Settings, folder: Path, platform: PlatformSettings,
                  log_file: Path | None, webhook_token: Secret | None = None) -> Settings:
    """The daemon's settings for the demo (only the log format comes from ``base``)."""
    return Settings(
        platform=platform,
        daemon=DaemonSettings(interval_seconds=INTERVAL, http_listen=listen(base),
                              http_token=base.daemon.http_token,
                              retention_days=base.daemon.retention_days,
                              shutdown_timeout_seconds=5.0,
                              webhook_token=webhook_token or Secret("")),
        database_url=f"sqlite:///{(folder / 'copytrader.db').resolve()}",
        policy_dir=folder / "policies",
        log_format=base.log_format,
        log_file=log_file,
    )


def listen(base: Settings) -> tuple[str, int]:
    """``COPYTRADER_HTTP_LISTEN`` when it is set, else a free loopback port."""
    if os.environ.get("COPYTRADER_HTTP_LISTEN"):
        return base.daemon.http_listen
    return ("127.0.0.1", 0)


async def announce(daemon: Daemon, serving: asyncio.Task[int]) -> None:
    """Print the dashboard's URL on stderr once the daemon listens."""
    ready = asyncio.ensure_future(daemon.ready.wait())
    await asyncio.wait({serving, ready}, return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    if daemon.ready.is_set() and daemon.endpoint is not None:
        print(f"copytrader demo: dashboard at {daemon.endpoint.url}/", file=sys.stderr,
              flush=True)


async def _main(args: argparse.Namespace, base: Settings, world: World, folder: Path,
                log_file: Path | None) -> int:
    started = time.monotonic()
    async with world.simulator(folder) as sim:
        for secret in sim.secrets:
            redact.register_secret(secret)
        s = demo_settings(base, folder, sim.platform, log_file, sim.webhook_token)
        daemon = Daemon(s, notifier=Notifier(None))
        serving = asyncio.create_task(daemon.serve())
        notes: list[str] = []
        edit = asyncio.create_task(_strategy_manager(daemon, world, sim, notes))
        loop = asyncio.get_running_loop()
        timer = (loop.call_later(args.seconds, daemon.request_stop, "demo time is up")
                 if args.seconds > 0 else None)
        try:
            await announce(daemon, serving)
            if args.headless:
                log.info("demo running", simulator=sim.url, policies=str(s.policy_dir),
                         database=s.database_url, seconds=args.seconds or "until Ctrl-C")
                code = await serving
            else:
                code = await _live(daemon, serving, sim.url, started, notes, world.names)
        finally:
            if timer is not None:
                timer.cancel()
            edit.cancel()
            await asyncio.gather(edit, return_exceptions=True)
            if not serving.done():  # an error in the view: stop the daemon too
                daemon.request_stop("demo ending")
                await asyncio.gather(serving, return_exceptions=True)
        edited = edit.done() and not edit.cancelled() and edit.exception() is None
    await _summary(s, time.monotonic() - started, edited, args.headless, world.names,
                   daemon.metrics.webhook_events())
    return code


async def _strategy_manager(daemon: Daemon, world: World, sim: Running,
                            notes: list[str]) -> None:
    """Point the platform's webhooks at the daemon once it listens; edit a master through
    the platform's API a little after the first pass."""
    await daemon.ready.wait()
    assert daemon.endpoint is not None
    world.connect_webhooks(sim, daemon.endpoint.url)
    await daemon.passed.wait()
    await asyncio.sleep(EDIT_AFTER)
    done = await world.edit_master(sim)
    log.info(f"{done}; the next pass fans it out")
    notes.append(f"{time.strftime('%H:%M:%S', time.gmtime())} {done}; "
                 "watch the next pass fan it out below")


async def _live(daemon: Daemon, serving: asyncio.Task[int], sim_url: str,
                started: float, notes: list[str], names: dict[str, str]) -> int:
    console = Console()
    with Live(demo_view.render(demo_view.Frame(header="starting...")), console=console,
              refresh_per_second=4, transient=False) as live:
        await asyncio.wait({serving, asyncio.ensure_future(daemon.ready.wait())},
                           return_when=asyncio.FIRST_COMPLETED)
        while not serving.done():
            assert daemon.service is not None and daemon.runner is not None
            endpoint = daemon.endpoint.url if daemon.endpoint else "-"
            header = (f"dashboard {endpoint}/   simulator {sim_url}   "
                      f"running {time.monotonic() - started:.0f} s   Ctrl-C to stop\n"
                      f"{daemon.runner.summary(daemon.interval)}")
            if notes:
                header += "\n" + notes[-1]
            try:
                frame = await demo_view.fetch(daemon.service.store, header, names)
            except Exception as exc:  # the database is closing: keep the last frame
                log.debug("demo view: fetch failed", error=str(exc))
            else:
                live.update(demo_view.render(frame))
            await asyncio.wait({serving}, timeout=1.0)
    return await serving


async def _summary(s: Settings, seconds: float, edited: bool, headless: bool,
                   names: dict[str, str], webhook_events: int) -> None:
    async with wiring.open_store_only(s) as store:
        runs = await store.runs()
        status = await queries.status(store)
        recorded = await trades.count(store)
    doc: dict[str, Any] = {
        "demo": "summary", "seconds": round(seconds, 1), "passes": len(runs),
        "actions_ok": sum(r.actions_ok for r in runs),
        "actions_failed": sum(r.actions_failed for r in runs),
        "master_edit_sent": edited, "database": s.database_url, "policy_dir": str(s.policy_dir),
        "webhook_events": webhook_events, "trades_recorded": recorded,
    }
    lines = [doc] + [{"master": m["master"], "name": demo_view.name(m["master"], names),
                      **{k: m[k] for k in ("master_status", "followers", "clones", "in_sync",
                                           "drifted", "failed", "paused")}}
                     for m in status["masters"]]
    if headless:
        for line in lines:
            sys.stdout.write(json.dumps(line) + "\n")
        return
    out = Console()
    out.print(f"[bold]copytrader demo[/]: {words.plural(doc['passes'], 'pass', 'passes')}, "
              f"{words.plural(doc['actions_ok'], 'action')} ok, {doc['actions_failed']} failed, "
              f"in {doc['seconds']} s")
    if webhook_events:
        out.print(f"  {webhook_events} webhook events from the platform, {recorded} closed "
                  "trades recorded (copytrader history shows their ROI)")
    for m in lines[1:]:
        out.print(f"  {m['name']}: {m['in_sync']}/{words.plural(m['followers'], 'follower')} "
                  f"in sync, {words.plural(m['clones'], 'clone')}")
    # Commands to copy: each on a line of its own, never wrapped, naming the copytrader that
    # runs (``.venv/bin/copytrader`` when it is not on PATH, as after the README's first line)
    argv0 = sys.argv[0]
    on_path = shutil.which("copytrader") is not None
    me = argv0 if os.path.basename(argv0) == "copytrader" and not on_path else "copytrader"
    out.print("Look around, and in a browser:")
    for command in ("audit", "web"):
        out.print(f"  COPYTRADER_DATABASE_URL={s.database_url} {me} {command}", soft_wrap=True,
                  markup=False, highlight=False)
