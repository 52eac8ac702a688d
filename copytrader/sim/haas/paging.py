"""Opaque, snapshot-based pagination for the simulator's listings.

The first page of a listing takes a snapshot of the ids to list (one list copy) under a
random listing id; ``nextPageId`` tokens are urlsafe base64 of ``listing:offset``, so a
client cannot guess or compute them. Items deleted after the snapshot are skipped; items
created after it are not listed (a later listing sees them).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections import OrderedDict
from collections.abc import Callable

from copytrader.sim.haas.validation import invalid

KEEP_LISTINGS = 64  # open listings remembered; older tokens expire


def _encode(listing: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{listing}:{offset}".encode()).decode().rstrip("=")


def _decode(token: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        listing, offset = raw.split(":")
        return listing, int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid("nextPageId is not valid") from exc


class Pager:
    """Hands out pages of id snapshots and remembers the listings still open."""

    def __init__(self) -> None:
        self._listings: OrderedDict[str, list[str]] = OrderedDict()

    def page(
        self, snapshot: Callable[[], list[str]], limit: int, token: object
    ) -> tuple[list[str], str | None]:
        """The ids of one page and the token of the next (None on the last page).

        ``token`` None or "" starts a new listing from ``snapshot()``; anything else must be
        a token this pager returned, else SimError.
        """
        if token is None or token == "":
            ids = snapshot()
            listing, offset = os.urandom(6).hex(), 0
        else:
            if not isinstance(token, str):
                raise invalid("nextPageId must be a string")
            listing, offset = _decode(token)
            found = self._listings.get(listing)
            if found is None or not 0 < offset <= len(found):
                raise invalid("nextPageId is not valid or has expired")
            ids = found
            self._listings.move_to_end(listing)
        end = offset + limit
        if end >= len(ids):
            # The listing stays remembered: a client may retry a last page it never received.
            return ids[offset:], None
        if listing not in self._listings:
            self._listings[listing] = ids
            while len(self._listings) > KEEP_LISTINGS:
                self._listings.popitem(last=False)
        return ids[offset:end], _encode(listing, end)
