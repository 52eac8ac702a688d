"""One pass's reading: the policies, checked against the platform, and the platform itself.

Everything a plan needs is read here, once per pass: the policy folder, the script
catalogue (cached by the client), one paginated sweep of ``/bots/list``, the links from the
store, and the users only when a policy names one not seen before. A failed sweep raises:
a pass never plans from a partial reading.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from copytrader.core import plan as plan_mod
from copytrader.core import policy as policy_mod
from copytrader.core.model import Bot, Catalogue, User
from copytrader.core.policy import Policy, Problem
from copytrader.core.records import Link
from copytrader.policy import loader
from copytrader.reconcile.ports import Platform, Store


@dataclass(frozen=True)
class Reading:
    """What one pass read. ``policies`` holds the valid ones only."""

    policies: tuple[Policy, ...]
    problems: tuple[Problem, ...]
    invalid_files: dict[str, str]  # path -> sha256 of every invalid file
    world: plan_mod.World
    links: tuple[Link, ...] = ()
    invalid_masters: dict[str, str] = field(default_factory=dict)  # path -> master, when known


@dataclass
class UserCache:
    """Users seen so far. Users rarely change, so a pass reads ``/users/list`` only when a
    policy names a user not seen yet (a new follower), not every pass."""

    users: dict[str, User] = field(default_factory=dict)

    async def covering(self, platform: Platform, wanted: set[str]) -> dict[str, User]:
        if not wanted <= self.users.keys():
            fresh: dict[str, User] = {}
            async for user in platform.iter_users():
                fresh[user.user_id] = user
            self.users = fresh
        return self.users


@dataclass
class PolicyCache:
    """The last load of the policy folder, reused while no file in it changed.

    Composing YAML is the slow part of a pass (about 2 s for a 10,000-follower file with
    PyYAML's pure-Python composer); hashing the same bytes takes milliseconds. A file is
    "unchanged" when the folder lists the same files with the same SHA-256 as the load that
    is cached (``LoadedPolicies.files``), so any edit, new or removed file reloads it all.
    """

    _files: dict[str, str] | None = None
    _loaded: loader.LoadedPolicies | None = None

    def load(self, directory: Path) -> loader.LoadedPolicies:
        """``loader.load_dir(directory)``, or the cached result when no file changed.

        Blocking (file reads): call it in a thread. Raises ConfigError as ``load_dir`` does.
        """
        if self._loaded is not None and self._files == loader.fingerprint(directory):
            return self._loaded
        loaded = loader.load_dir(directory)
        self._files, self._loaded = dict(loaded.files), loaded
        return loaded


async def sweep(platform: Platform) -> dict[str, Bot]:
    """Every bot of the partner, by id: one paginated read. Raises on any failed page."""
    bots: dict[str, Bot] = {}
    async for bot in platform.iter_bots():
        bots[bot.bot_id] = bot
    return bots


def check_policies(
    loaded: loader.LoadedPolicies,
    bots: dict[str, Bot],
    catalogue: Catalogue,
    users: dict[str, User],
) -> tuple[list[Policy], list[Problem], dict[str, str]]:
    """Split the loaded policies into valid ones and problems (with positions)."""
    problems = list(loaded.problems)
    invalid = {f: loaded.files.get(f, "") for f in loaded.invalid_files}
    valid: list[Policy] = []
    for p in loaded.policies:
        master = bots.get(p.master)
        if master is None:
            # A master gone from a complete sweep is handled by the plan (as stopped); the
            # file itself is fine.
            valid.append(p)
            continue
        found = policy_mod.validate(
            p, master=master, script=catalogue.script(master.type), users=users
        )
        if found:
            problems.extend(loader.locate(found, Path(p.source.path)))
            invalid[p.source.path] = p.source.sha256
        else:
            valid.append(p)
    return valid, problems, invalid


def keep_last_good(
    valid: list[Policy], invalid: dict[str, str], last_good: dict[str, Policy]
) -> list[Policy]:
    """Valid policies plus, for each invalid file, its last good version (the daemon's rule:
    a broken edit keeps the last good version of that file running). Updates ``last_good``."""
    for p in valid:
        last_good[p.source.path] = p
    for path in list(last_good):
        if path not in invalid and all(p.source.path != path for p in valid):
            del last_good[path]  # the file was deleted: forget it
    masters = {p.master for p in valid}
    kept = [
        last_good[f]
        for f in sorted(invalid)
        if f in last_good and last_good[f].master not in masters
    ]
    return valid + kept


def reserved(policies: Iterable[Policy], links: Iterable[Link]) -> frozenset[str]:
    """Every bot that must never pass for a follower's stray bot (a suspected duplicate or
    an adopt candidate): each linked clone and each master named by a policy file (valid or
    not) or a link, so that an invalid file's clones and masters are never touched."""
    out = {p.master for p in policies}
    for link in links:
        out.add(link.master)
        if link.bot_id:
            out.add(link.bot_id)
    return frozenset(out)


async def read(
    platform: Platform,
    store: Store,
    policy_dir: Path,
    users: UserCache,
    last_good: dict[str, Policy] | None = None,
    policies: PolicyCache | None = None,
) -> Reading:
    """Read everything a pass needs. Raises PlatformError when the sweep fails.

    With ``last_good`` (the daemon), an invalid file's last good version stays in force.
    With ``policies``, unchanged policy files are not parsed again.
    """
    load = policies.load if policies is not None else loader.load_dir
    loaded = await asyncio.to_thread(load, policy_dir)
    catalogue = await platform.catalogue()
    bots = await sweep(platform)
    wanted = {f.user for p in loaded.policies for f in p.followers}
    known = await users.covering(platform, wanted) if wanted else {}
    valid, problems, invalid = check_policies(loaded, bots, catalogue, known)
    named = {p.source.path: p.master for p in loaded.policies if p.source.path in invalid}
    if last_good is not None:
        valid = keep_last_good(valid, invalid, last_good)
    links = await store.links()
    masters = {p.master for p in valid}
    mine = [lk for lk in links if lk.master in masters]
    risk = {(s.master, s.follower): s for s in await store.risk_states() if s.master in masters}
    world = plan_mod.World(
        bots=bots,
        catalogue=catalogue,
        links={(lk.master, lk.follower): lk for lk in mine},
        suspicious=plan_mod.sweep_suspicious(bots, mine),
        now=datetime.now(UTC),
        reserved=reserved([*loaded.policies, *valid], links),
        risk=risk,
    )
    return Reading(tuple(valid), tuple(problems), invalid, world, tuple(links), named)
