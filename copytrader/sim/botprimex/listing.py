"""Cursor pagination of the simulator's listings: opaque cursors over a snapshot of ids.

The first page of a listing takes a snapshot of the ids under a random listing id; a
``next_cursor`` is urlsafe base64 of ``listing:offset``. Items deleted after the snapshot
are skipped; items created after it are not listed (a later listing sees them).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections import OrderedDict
from collections.abc import Callable

from copytrader.sim.botprimex.errors import invalid

KEEP_LISTINGS = 256  # open listings remembered; older cursors expire


class Cursors:
    """Hands out pages of id snapshots and remembers the listings still open."""

    def __init__(self) -> None:
        self._listings: OrderedDict[str, list[str]] = OrderedDict()

    def page(
        self, snapshot: Callable[[], list[str]], limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        """The ids of one page and the next cursor (None on the last page)."""
        if not cursor:
            ids, listing, offset = snapshot(), os.urandom(6).hex(), 0
        else:
            try:
                raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
                listing, offset_text = raw.split(":")
                offset = int(offset_text)
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise invalid("cursor is not valid") from None
            found = self._listings.get(listing)
            if found is None or not 0 < offset <= len(found):
                raise invalid("cursor is not valid or has expired")
            ids = found
            self._listings.move_to_end(listing)
        end = offset + limit
        if end >= len(ids):
            return ids[offset:], None
        if listing not in self._listings:
            self._listings[listing] = ids
            while len(self._listings) > KEEP_LISTINGS:
                self._listings.popitem(last=False)
        token = base64.urlsafe_b64encode(f"{listing}:{end}".encode()).decode().rstrip("=")
        return ids[offset:end], token
