"""The pure part of a pass at N followers, in a fresh process: ``python benchmarks/pure.py N``.

Prints one JSON object on stdout:

- ``baseline_rss_mb``: peak RSS of the interpreter with the imports, before any input;
- ``input_rss_mb``: peak RSS after building the inputs (the bots a sweep returns, the links,
  the policy): what any copier holding one reading needs;
- ``steady_cpu`` / ``fanout_cpu``: CPU seconds of ``copytrader.core.plan.build`` (desired
  state, drift check, diff, plan) over a converged platform, and after a master edit (one
  edit per follower);
- ``peak_rss_mb``: the process's peak RSS after both plans;
- ``snapshot_rows`` / ``snapshot_seconds``: one pass's snapshots written to a fresh SQLite
  store through ``SqlStore.add_snapshots`` (one transaction);
- ``yaml_*``: one policy file of N followers: its size, the loader's verdict, and the
  seconds to compose it with the loader's pure-Python composer and with libyaml's.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from benchmarks import converge
from benchmarks import world as world_mod
from copytrader.core import desired as desired_mod
from copytrader.core import plan as plan_mod
from copytrader.core.model import Bot, Status
from copytrader.core.records import BotSnapshot, Link
from copytrader.policy import loader, yamltree
from copytrader.store.engine import open_store


def _rss_mb() -> float:
    """Peak RSS of this process in MiB.

    Linux's ``VmHWM`` belongs to the address space, which ``exec`` replaces; ``ru_maxrss``
    is inherited across fork and exec, so a child of a 1 GB benchmark would report 1 GB.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _inputs(n: int) -> tuple[world_mod.Group, dict[str, Bot], dict[tuple[str, str], Link]]:
    """One master with ``n`` followers, each with a converged clone and its link."""
    group = world_mod.Group("m" * 32, "owner", [f"user-{i:06d}" for i in range(n)])
    catalogue = converge.catalogue()
    script = catalogue.script(world_mod.BOT_TYPE)
    assert script is not None
    master = Bot(group.master, group.owner, world_mod.BOT_TYPE, world_mod.EXCHANGE,
                 Status.RUNNING, MappingProxyType(dict(world_mod.MASTER_SETTINGS)))
    pol = world_mod.policy(group)
    base = desired_mod.base(pol, master, script)
    bots = {master.bot_id: master}
    links = {}
    for i, follower in enumerate(pol.followers):
        want = desired_mod.compute(base, follower)
        settings = MappingProxyType(dict(want.settings))
        bot_id = f"{i:032x}"
        bots[bot_id] = Bot(bot_id, follower.user, master.type, master.exchange_id,
                           Status.RUNNING, settings, created_at=i)
        links[(master.bot_id, follower.user)] = Link(master.bot_id, follower.user, bot_id,
                                                     applied=settings)
    return group, bots, links


def plans(n: int) -> dict[str, Any]:
    baseline = _rss_mb()  # the interpreter with copytrader, SQLAlchemy and aiohttp imported
    group, bots, links = _inputs(n)
    catalogue = converge.catalogue()
    policies = [world_mod.policy(group)]
    out: dict[str, Any] = {"n": n, "baseline_rss_mb": round(baseline, 1),
                           "input_rss_mb": round(_rss_mb(), 1)}
    c0 = time.process_time()
    steady = plan_mod.build(policies, plan_mod.World(bots, catalogue, links))
    out["steady_cpu"] = time.process_time() - c0
    out["steady_writes"] = steady.writes
    del steady  # one plan alive at a time, as in a pass
    master = bots[group.master]
    edited = dict(master.settings)
    edited[world_mod.FANOUT_KEY] = 2.5
    bots[group.master] = Bot(master.bot_id, master.user_id, master.type, master.exchange_id,
                             master.status, MappingProxyType(edited))
    c0 = time.process_time()
    fan = plan_mod.build(policies, plan_mod.World(bots, catalogue, links))
    out["fanout_cpu"] = time.process_time() - c0
    out["fanout_writes"] = fan.writes
    out["peak_rss_mb"] = round(_rss_mb(), 1)
    out.update(asyncio.run(_snapshots(group.master, fan, bots)))
    return out


async def _snapshots(master: str, plan: plan_mod.Plan, bots: dict[str, Bot]) -> dict[str, Any]:
    now = datetime.now(UTC)
    snaps = [BotSnapshot("run", now, master, None, master, Status.RUNNING, 0.0, 0.0,
                         followers=len(plan.followers))]
    for fp in plan.followers:
        clone = fp.clone
        assert clone is not None
        snaps.append(BotSnapshot("run", now, master, fp.follower, clone.bot_id, clone.status,
                                 clone.roi, clone.profit, in_sync=True))
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(f"sqlite:///{tmp}/snap.db")
        try:
            t0 = time.perf_counter()
            await store.add_snapshots(snaps)
            seconds = time.perf_counter() - t0
        finally:
            await store.close()
    return {"snapshot_rows": len(snaps), "snapshot_seconds": seconds}


def policy_file(n: int) -> dict[str, Any]:
    """Load one policy file of ``n`` followers as the daemon would, and compose it both ways."""
    group = world_mod.Group("m" * 32, "owner", [f"{i:08d}-0000-4000-8000-000000000000"
                                                for i in range(n)])
    text = world_mod.policy_yaml(group)
    out: dict[str, Any] = {"yaml_bytes": len(text.encode())}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yaml"
        path.write_text(text, encoding="utf-8")
        t0 = time.perf_counter()
        pol, problems = loader.load_file(path)
        out["yaml_load_seconds"] = time.perf_counter() - t0
        out["yaml_loaded"] = pol is not None
        out["yaml_problem"] = str(problems[0]) if problems else ""
    t0 = time.perf_counter()
    yamltree.compose(text)
    out["yaml_compose_python_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    yaml.compose(text, Loader=yaml.CSafeLoader)
    out["yaml_compose_libyaml_seconds"] = time.perf_counter() - t0
    return out


def main(argv: list[str]) -> int:
    n = int(argv[1])
    mode = argv[2] if len(argv) > 2 else "plan"
    doc = plans(n) if mode == "plan" else policy_file(n)
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
