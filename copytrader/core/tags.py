"""copytrader's mark on the clones it makes, where the platform keeps no link to the master.

On BotPrimeX nothing ties a copy to its master, so copytrader names each clone
``"<master's name> [ct:H]"`` with H = :func:`clone_tag` of the master and the follower. The
platform adapter reads the tag back into :attr:`copytrader.core.model.Bot.mark`; the planner
takes a follower's bot marked for that master as its clone (:func:`marked`) instead of
cloning again: a clone whose answer was lost, or one an earlier install made, is adopted,
never made twice and never held as an adopt candidate. Platforms that link copies themselves
leave ``mark`` empty, and nothing here applies to them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from copytrader.core.model import Bot

#: Hex digits of the SHA-256 kept in a tag.
TAG_LENGTH = 12


def clone_tag(master: str, follower: str) -> str:
    """H: the first 12 lowercase hex digits of SHA-256 of ``"<master>:<follower>"``."""
    return hashlib.sha256(f"{master}:{follower}".encode()).hexdigest()[:TAG_LENGTH]


def marked(bots: Iterable[Bot], master: str, follower: str) -> Bot | None:
    """Of ``bots``, the oldest one carrying the mark of ``follower``'s clone of ``master``
    (any others are suspected duplicates); None when no bot carries it."""
    tag = clone_tag(master, follower)
    found = [b for b in bots if b.mark == tag]
    return min(found, key=lambda b: (b.created_at, b.bot_id)) if found else None
