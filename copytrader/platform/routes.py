"""One endpoint of a partner API, as every platform's route table describes it.

Retry classes: a *read* changes nothing and is always resent. An *idempotent* write has the
same effect done twice, so it is resent after an ambiguous failure (a timeout, a 5xx, a
connection dropped after sending). Every other write is sent at most once per call after the
request may have reached the platform: the caller checks or adopts on its next pass. Any
request is resent after a 429 or a refused connection, since neither was processed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import quote


class Route(NamedTuple):
    """One endpoint: how to call it and whether a failed call may be sent again."""

    method: str
    path: str
    #: Same effect when done twice: resent after an ambiguous failure.
    idempotent: bool
    #: Changes nothing on the platform.
    read: bool = False
    #: The request body carries a user's exchange secrets: never log or echo it.
    secret_body: bool = False

    @property
    def retry_safe(self) -> bool:
        """Whether the request may be resent after it may have reached the platform."""
        return self.read or self.idempotent

    def url_path(self, params: Mapping[str, str] | None = None) -> str:
        """The path with ``{name}`` placeholders filled in, each value URL-quoted."""
        if not params:
            return self.path
        return self.path.format_map({k: quote(v, safe="") for k, v in params.items()})
