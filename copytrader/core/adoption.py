"""A person's adoption (``copytrader adopt``): which bot may become a follower's clone.

The planner holds a listed follower that has no link but already has look-alike bots (an
adopt candidate, :mod:`copytrader.core.duplicates`). A person settles it by naming the bot
(:func:`refusal` says why a named bot may not be taken) or by taking, for every held
follower of a master with exactly one candidate, that one (:func:`single_candidates`). The
adopted bot becomes the clone as it is: the next pass converges it like any clone.
"""

from __future__ import annotations

from collections.abc import Iterable

from copytrader.core import duplicates
from copytrader.core.actions import Plan, World
from copytrader.core.policy import Policy
from copytrader.core.records import Link


def refusal(
    policy: Policy, world: World, follower: str, bot_id: str, links: Iterable[Link]
) -> str | None:
    """Why ``bot_id`` may not become ``follower``'s clone of ``policy``'s master, or None.

    ``links`` is every link on record (any master's). The bot must be on the platform, be
    the follower's, have the master's type, exchange and market, be no policy's master and
    no link's clone; the follower must be listed and have no link to this master yet.
    """
    m = policy.master
    if policy.follower(follower) is None:
        return f"{follower} is not a follower in {policy.source.path or 'the policy'} of {m}"
    master = world.bots.get(m)
    if master is None:
        return f"master bot {m} not found on the platform"
    mine = world.links.get((m, follower))
    if mine is not None and mine.bot_id:
        return f"follower {follower} already has a clone of {m}: {mine.bot_id}"
    if mine is not None:
        return (
            f"a clone request of follower {follower} is on record; "
            "the next pass adopts the bot it made"
        )
    bot = world.bots.get(bot_id)
    if bot is None:
        return f"bot {bot_id} not found on the platform"
    if bot.user_id != follower:
        return f"bot {bot_id} belongs to user {bot.user_id}, not to {follower}"
    for link in links:
        if link.bot_id == bot_id:
            return f"bot {bot_id} is already the clone of {link.follower} for master {link.master}"
        if link.master == bot_id:
            return f"bot {bot_id} is a master bot"
    if bot_id in world.reserved or bot_id == m:
        return f"bot {bot_id} is a master bot"
    if not duplicates.looks_like(bot, master):
        return (
            f"bot {bot_id} is a {duplicates.describe(bot)} bot, "
            f"the master a {duplicates.describe(master)} bot"
        )
    return None


def single_candidates(plan: Plan, master: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The held adopt candidates of ``master`` in ``plan``: ``(follower, bot)`` for each
    follower with exactly one candidate, and the followers with several (left for a person
    to name one)."""
    one: list[tuple[str, str]] = []
    several: list[str] = []
    for note in plan.notes:
        if note.action != "adopt_candidate" or note.master != master or note.follower is None:
            continue
        if len(note.bots) == 1:
            one.append((note.follower, note.bots[0]))
        else:
            several.append(note.follower)
    return one, several
