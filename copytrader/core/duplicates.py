"""Look-alike bots of listed followers: suspected duplicates, adopt candidates, lost answers.

A bot *looks like* a master when it has the master's type, exchange and market (the
``symbol`` or ``pair`` setting) and is not the master itself. A follower's look-alike bot
that no link claims and that is no policy's master is a *stray*: the database does not know
it as anyone's clone. What becomes of a stray depends on the follower's link:

- the follower has a link (its clone, or the intent of a clone request): the stray is a
  **suspected duplicate** (a second process, a person clicking clone, an older install). It
  is reported (``duplicate_suspected``, once per bot) and, under ``on_duplicate: stop``,
  stopped while it runs; it is never deleted or adopted on suspicion;
- the follower has no link yet: its strays are **adopt candidates** and it gets no new
  clone: it is held (``adopt_candidate``) until a person adopts one, or the policy's
  ``on_existing`` says ``adopt`` (exactly one candidate) or ``clone`` (clone anyway; the
  strays are then suspected duplicates);
- a clone request whose answer was lost left an intent: the newest stray created after it
  is that clone (:func:`lost_answer`), adopted without asking.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from copytrader.core.actions import Action, Kind, Note
from copytrader.core.model import Bot, Scalar, Status
from copytrader.core.policy import OnDuplicate, OnExisting, Policy

#: The settings that name a bot's market, by platform (HaasOnline, BotPrimeX).
MARKET_KEYS = ("symbol", "pair")

#: Seconds a platform's clock may be behind ours when matching a lost clone's createdAt.
ADOPT_CLOCK_SLACK = 300


def market(bot: Bot) -> Scalar:
    """The bot's market (its first :data:`MARKET_KEYS` setting), None when it names none."""
    for key in MARKET_KEYS:
        if key in bot.settings:
            return bot.settings[key]
    return None


def looks_like(bot: Bot, master: Bot) -> bool:
    """Whether ``bot`` has ``master``'s type, exchange and market (and is not the master)."""
    return (
        bot.bot_id != master.bot_id
        and bot.type == master.type
        and bot.exchange_id == master.exchange_id
        and market(bot) == market(master)
    )


def describe(master: Bot) -> str:
    """``spot_grid on BINANCE BINANCE_ETH_USDT_``: what a look-alike of ``master`` has."""
    where = f"{master.exchange_id} {market(master)}" if market(master) else master.exchange_id
    return f"{master.type} on {where}"


class Strays:
    """The bots of each user that are nobody's known clone and no master, for one plan.

    ``reserved`` is every bot id the plan must never take for a stray: linked clones and
    masters (see :attr:`copytrader.core.actions.World.reserved`)."""

    def __init__(self, bots: Iterable[Bot], reserved: Collection[str]) -> None:
        self._by_user: dict[str, list[Bot]] = {}
        for bot in bots:
            if bot.bot_id not in reserved:
                self._by_user.setdefault(bot.user_id, []).append(bot)
        for found in self._by_user.values():
            found.sort(key=lambda b: (b.created_at, b.bot_id))

    def every(self, user: str, taken: Collection[str] = ()) -> list[Bot]:
        """Every bot of ``user`` that is nobody's known clone and no master, not in
        ``taken``, oldest first (look-alike or not)."""
        return [b for b in self._by_user.get(user, ()) if b.bot_id not in taken]

    def of(self, user: str, master: Bot, taken: Collection[str] = ()) -> list[Bot]:
        """``user``'s look-alikes of ``master`` not in ``taken``, oldest first."""
        return [
            b
            for b in self._by_user.get(user, ())
            if b.bot_id not in taken and looks_like(b, master)
        ]


def lost_answer(strays: list[Bot], intent_at: datetime) -> Bot | None:
    """The bot a clone request recorded at ``intent_at`` made, among a follower's strays:
    the newest one created after the intent (less the clock slack), or None."""
    since = intent_at.timestamp() - ADOPT_CLOCK_SLACK
    found = [b for b in strays if b.created_at >= since]
    return max(found, key=lambda b: (b.created_at, b.bot_id)) if found else None


def existing(
    policy: Policy, follower: str, master: Bot, candidates: list[Bot]
) -> Bot | Note | None:
    """For a listed follower with no link whose strays are ``candidates`` (at least one):
    the bot to adopt (``on_existing: adopt`` and exactly one), the ``adopt_candidate`` note
    that holds the follower, or None to clone anyway (``on_existing: clone``)."""
    rule = policy.on_existing
    if rule is OnExisting.CLONE:
        return None
    if rule is OnExisting.ADOPT and len(candidates) == 1:
        return candidates[0]
    ids = tuple(b.bot_id for b in candidates)
    why = (
        f"{len(ids)} candidates; on_existing: adopt needs exactly one"
        if rule is OnExisting.ADOPT
        else "on_existing: hold"
    )
    return Note(
        "adopt_candidate",
        policy.master,
        follower,
        ids[0] if len(ids) == 1 else None,
        detail=f"no link yet, and the follower already has a {describe(master)} bot: "
        f"{', '.join(ids)}; not cloned ({why}); "
        f"copytrader adopt {policy.master} {follower} BOT",
        bots=ids,
    )


def suspected(
    policy: Policy, follower: str, master: Bot, strays: list[Bot]
) -> tuple[list[Note], tuple[Action, ...]]:
    """The ``duplicate_suspected`` notes of a linked follower's ``strays`` (one per bot,
    stopped or not), and the stops ``on_duplicate: stop`` asks for (running ones only)."""
    rule = policy.on_duplicate
    notes = [
        Note(
            "duplicate_suspected",
            policy.master,
            follower,
            b.bot_id,
            detail=f"a {describe(master)} bot of this follower that copytrader did not make "
            f"or adopt; on_duplicate: {rule.value}",
        )
        for b in strays
    ]
    stops = tuple(
        Action(
            Kind.STOP,
            policy.master,
            follower,
            b.bot_id,
            reason="suspected duplicate; on_duplicate: stop",
        )
        for b in strays
        if rule is OnDuplicate.STOP and b.status is Status.RUNNING
    )
    return notes, stops
