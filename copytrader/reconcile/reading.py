"""One pass's reading: the policies, checked against the platform, and the platform itself.

Everything a plan needs is read here, once per pass: the policy folder, the script
catalogue (cached by the client), the platform's sweep (HaasOnline: one paginated
``/bots/list``; BotPrimeX: ``GET /bots`` of each account), the links from the store, and the
users only when a policy names one not seen before.

The sweep comes in parts (:class:`copytrader.core.model.SweepPart`): :func:`read_head`
reads the first one, which holds every master (enough to check the policies), and hands
back the rest to be planned part by part as it arrives (:mod:`copytrader.core.partition`);
:func:`read` reads them all (``plan``, ``drift``, ``adopt``). A failed first part raises: a
pass never plans from a partial reading. A later part that failed covers users whose bots
are unknown this pass: nothing is planned for them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncGenerator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from copytrader.core import partition, policy_checks
from copytrader.core import plan as plan_mod
from copytrader.core.model import Bot, Catalogue, SweepPart, User
from copytrader.core.policy import Policy, Problem
from copytrader.core.records import Link
from copytrader.policy import check, loader
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
    #: The parts of the sweep read so far, the first one first (a failed one has ``error``).
    parts: tuple[SweepPart, ...] = ()

    @property
    def masters(self) -> Mapping[str, Bot]:
        """The first part's bots: every master."""
        return self.parts[0].bots if self.parts else self.world.bots

    @property
    def unread(self) -> dict[str, str]:
        """Each user whose part of the sweep could not be read, with why."""
        return {u: p.error for p in self.parts if p.error for u in sorted(p.users or ())}

    def plan(self) -> plan_mod.Plan:
        """The plan of every part read (what a pass would do now)."""
        plans = [
            partition.plan_part(self.policies, self.world, part, self.masters)
            for part in self.parts
        ]
        return partition.merge(plans) if len(plans) != 1 else plans[0]


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
    # The daemon's dashboard shares this cache from its own threads: one load at a time, so
    # no reader ever pairs one load's fingerprint with another load's policies.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def load(self, directory: Path) -> loader.LoadedPolicies:
        """``loader.load_dir(directory)``, or the cached result when no file changed.

        Blocking (file reads): call it in a thread. Raises ConfigError as ``load_dir`` does.
        """
        with self._lock:
            if self._loaded is not None and self._files == loader.fingerprint(directory):
                return self._loaded
            loaded = loader.load_dir(directory)
            self._files, self._loaded = dict(loaded.files), loaded
            return loaded


def check_policies(
    loaded: loader.LoadedPolicies,
    bots: Mapping[str, Bot],
    catalogue: Catalogue,
    users: dict[str, User],
) -> tuple[list[Policy], list[Problem], dict[str, str]]:
    """Split the loaded policies into valid ones and problems (with positions). What is valid
    of an invalid file is checked against the platform too, so that the file's every
    problem is reported at once; it stays invalid."""
    problems = list(loaded.problems)
    invalid = {f: loaded.files.get(f, "") for f in loaded.invalid_files}
    for p in loaded.partials:
        master = bots.get(p.master)
        if master is not None:
            found = policy_checks.validate(
                p, master=master, script=catalogue.script(master.type), users=users
            )
            problems.extend(loader.locate(found, Path(p.source.path)))
    valid: list[Policy] = []
    for p in loaded.policies:
        master = bots.get(p.master)
        if master is None:
            # A master gone from a complete sweep is handled by the plan (as stopped); the
            # file itself is fine.
            valid.append(p)
            continue
        found = policy_checks.validate(
            p, master=master, script=catalogue.script(master.type), users=users
        )
        if found:
            problems.extend(loader.locate(found, Path(p.source.path)))
            invalid[p.source.path] = p.source.sha256
        else:
            valid.append(p)
    return valid, check.unique(problems), invalid


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


async def read_head(
    platform: Platform,
    store: Store,
    policy_dir: Path,
    users: UserCache,
    last_good: dict[str, Policy] | None = None,
    policies: PolicyCache | None = None,
) -> tuple[Reading, AsyncGenerator[SweepPart, None]]:
    """Everything a pass needs before its first plan: the policies checked against the
    first part of the sweep (every master), and the rest of the sweep, to be read part by
    part. Raises PlatformError when the first part cannot be read.

    With ``last_good`` (the daemon), an invalid file's last good version stays in force.
    With ``policies``, unchanged policy files are not parsed again.
    """
    load = policies.load if policies is not None else loader.load_dir
    loaded = await asyncio.to_thread(load, policy_dir)
    catalogue = await platform.catalogue()
    sweep = platform.sweep()
    try:
        head = await anext(sweep)
        wanted = {f.user for p in (*loaded.policies, *loaded.partials) for f in p.followers}
        known = await users.covering(platform, wanted) if wanted else {}
        valid, problems, invalid = check_policies(loaded, head.bots, catalogue, known)
        named = {path: m for path, m in loaded.masters.items() if path in invalid}
        if last_good is not None:
            valid = keep_last_good(valid, invalid, last_good)
        links = await store.links()
        masters = {p.master for p in valid}
        risk = {
            (s.master, s.follower): s for s in await store.risk_states() if s.master in masters
        }
    except BaseException:
        await sweep.aclose()
        raise
    mine = [lk for lk in links if lk.master in masters]
    world = plan_mod.World(
        bots=head.bots,
        catalogue=catalogue,
        links={(lk.master, lk.follower): lk for lk in mine},
        suspicious=plan_mod.sweep_suspicious(
            head.bots, [lk for lk in mine if head.covers(lk.follower)]
        ),
        now=datetime.now(UTC),
        reserved=reserved([*loaded.policies, *valid], links),
        risk=risk,
    )
    reading = Reading(
        tuple(valid), tuple(problems), invalid, world, tuple(links), named, parts=(head,)
    )
    return reading, sweep


async def read(
    platform: Platform,
    store: Store,
    policy_dir: Path,
    users: UserCache,
    last_good: dict[str, Policy] | None = None,
    policies: PolicyCache | None = None,
) -> Reading:
    """Read everything a plan needs, every part of the sweep included (see
    :func:`read_head`); ``world.bots`` holds the bots of every part that was read."""
    head, rest = await read_head(platform, store, policy_dir, users, last_good, policies)
    parts = list(head.parts)
    bots = dict(head.world.bots)
    async for part in rest:
        parts.append(part)
        bots.update(part.bots)
    if len(parts) == 1:
        return head
    world = dataclasses.replace(head.world, bots=MappingProxyType(bots))
    return dataclasses.replace(head, world=world, parts=tuple(parts))
