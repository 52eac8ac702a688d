"""``copytrader adopt``: a person makes an existing bot a follower's clone.

:func:`desk` reads the platform and the policies once (read requests only) and answers what
may be adopted (:mod:`copytrader.core.adoption`); :func:`record` is the one place an
adoption is written: the link and its ``adopt`` audit event, in one transaction per
follower. Nothing is written to the platform: the next pass converges the adopted clone
like any other (edits, start or stop).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from copytrader.core import adoption
from copytrader.core import plan as plan_mod
from copytrader.core.model import Bot
from copytrader.core.policy import Policy
from copytrader.core.records import AuditEvent, Link
from copytrader.reconcile import reading
from copytrader.reconcile.executor import Audit
from copytrader.reconcile.ports import Store


class Refused(Exception):
    """The adoption asked for cannot be made; the message names why (one line)."""


@dataclass(frozen=True)
class Adoption:
    """One bot to become one follower's clone of one master."""

    policy: Policy
    bot: Bot

    @property
    def follower(self) -> str:
        return self.bot.user_id

    def to_json(self) -> dict[str, str]:
        return {"master": self.policy.master, "follower": self.follower, "bot": self.bot.bot_id}


@dataclass(frozen=True)
class Desk:
    """What one reading says may be adopted."""

    read: reading.Reading
    plan: plan_mod.Plan

    def policy(self, master: str) -> Policy:
        for p in self.read.policies:
            if p.master == master:
                return p
        raise Refused(f"no valid policy file names master {master}")

    @property
    def masters(self) -> list[str]:
        return [p.master for p in self.read.policies]

    def followers(self, master: str) -> list[str]:
        return [f.user for f in self.policy(master).followers]

    @property
    def bots(self) -> list[str]:
        return list(self.read.world.bots)

    def one(self, master: str, follower: str, bot_id: str) -> Adoption:
        """The adoption of ``bot_id`` by ``follower``; Refused naming why it cannot be."""
        policy = self.policy(master)
        why = adoption.refusal(policy, self.read.world, follower, bot_id, self.read.links)
        if why is not None:
            raise Refused(why)
        return Adoption(policy, self.read.world.bots[bot_id])

    def every_single(self, master: str) -> tuple[list[Adoption], list[str]]:
        """An adoption for each held follower of ``master`` with exactly one candidate, and
        the held followers with several."""
        policy = self.policy(master)
        one, several = adoption.single_candidates(self.plan, master)
        return [Adoption(policy, self.read.world.bots[bot]) for _, bot in one], several


def desk(read: reading.Reading) -> Desk:
    """The desk of one reading (``Reconciler.read()``)."""
    return Desk(read, plan_mod.build(read.policies, read.world))


async def record(
    store: Store, trail: Audit, run_id: str, adoptions: list[Adoption]
) -> list[tuple[Adoption, str]]:
    """Write each adoption: its link (the bot's settings as what copytrader last saw, so the
    adoption itself is no drift) and an ``adopt`` audit event, in one transaction. An
    adoption whose follower got a link after the desk checked it (a running daemon's clone
    request, another adoption) is not written: it is returned with why."""
    lost: list[tuple[Adoption, str]] = []
    for a in adoptions:
        m, f, bot = a.policy.master, a.follower, a.bot.bot_id
        link = Link(m, f, bot, applied=MappingProxyType(dict(a.bot.settings)))
        event = AuditEvent(
            ts=datetime.now(UTC),
            run_id=run_id,
            action="adopt",
            master=m,
            follower=f,
            bot=bot,
            outcome="ok",
            policy_file=a.policy.source.path or None,
            policy_sha256=a.policy.source.sha256 or None,
            detail="adopted by a person (copytrader adopt): the bot is this follower's clone",
        )
        if await store.adopt_link(link, [trail.mask(event)]):
            trail.log(event)
        else:
            lost.append((a, f"follower {f} got a clone of {m} (or a clone request) meanwhile; "
                            f"bot {bot} was not adopted: see copytrader status"))
    return lost
