"""Opaque, snapshot-based pagination of the simulators' listings (both platforms).

The first page of a listing takes a snapshot of the ids to list (one list copy) under a
random listing id; a page token (HaasOnline's ``nextPageId``, BotPrimeX's ``cursor``) is
urlsafe base64 of ``listing:offset``, so a client cannot guess or compute one. Items deleted
after the snapshot are skipped; items created after it are not listed (a later listing sees
them).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections import OrderedDict
from collections.abc import Callable


class Pager:
    """Hands out pages of id snapshots and remembers the ``keep`` listings opened last
    (older tokens expire). A bad token raises ``invalid(message)``, the message naming
    ``field`` (the request's name for the token)."""

    def __init__(self, field: str, invalid: Callable[[str], Exception], *, keep: int) -> None:
        self.field = field
        self.invalid = invalid
        self.keep = keep
        self._listings: OrderedDict[str, list[str]] = OrderedDict()

    def page(
        self, snapshot: Callable[[], list[str]], limit: int, token: object
    ) -> tuple[list[str], str | None]:
        """The ids of one page and the token of the next (None on the last page).

        ``token`` None or "" starts a new listing from ``snapshot()``; anything else must be
        a token this pager returned.
        """
        if token is None or token == "":
            ids = snapshot()
            listing, offset = os.urandom(6).hex(), 0
        else:
            listing, offset = self._decode(token)
            found = self._listings.get(listing)
            if found is None or not 0 < offset <= len(found):
                raise self.invalid(f"{self.field} is not valid or has expired")
            ids = found
            self._listings.move_to_end(listing)
        end = offset + limit
        if end >= len(ids):
            # The listing stays remembered: a client may retry a last page it never received.
            return ids[offset:], None
        if listing not in self._listings:
            self._listings[listing] = ids
            while len(self._listings) > self.keep:
                self._listings.popitem(last=False)
        token = base64.urlsafe_b64encode(f"{listing}:{end}".encode()).decode().rstrip("=")
        return ids[offset:end], token

    def _decode(self, token: object) -> tuple[str, int]:
        if not isinstance(token, str):
            raise self.invalid(f"{self.field} must be a string")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            listing, offset = raw.split(":")
            return listing, int(offset)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise self.invalid(f"{self.field} is not valid") from None
