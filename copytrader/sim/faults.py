"""Fault injection and the request log of the simulators (both platforms).

A :class:`FaultPlan` holds :class:`Fault` rules; the HTTP layer asks ``take(path)`` once per
request and applies what it gets. Rules are matched in the order they were added. A rule
may name a ``method`` and (BotPrimeX) an ``account``; its ``path`` is ``*``, a path, or a
route template (``/bots/{id}/start``). ``duplicate`` and ``reorder`` act on the BotPrimeX
simulator's webhook deliveries (path ``webhook``): an event sent twice, or held back and
sent after the next one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: Faults of webhook deliveries (path :data:`WEBHOOK_PATH`); the others are of API requests.
WEBHOOK_KINDS = frozenset({"duplicate", "reorder"})
FAULT_KINDS = frozenset(
    {"429", "500", "timeout", "slow", "lost", "reject", "malformed", "missing_fields", "reset",
     "page_fail", *WEBHOOK_KINDS}
)
#: Paths ``page_fail`` applies to (the paginated listings copytrader walks on HaasOnline).
PAGED_PATHS = frozenset({"/bots/list", "/bots/user", "/users/list"})
#: The path of a webhook delivery, for fault rules.
WEBHOOK_PATH = "webhook"


@dataclass(frozen=True)
class RequestRecord:
    """One request the simulator received (never the API key)."""

    ts: float  # time.monotonic() when it arrived
    wall: float  # time.time() when it arrived
    method: str
    path: str
    status: int  # HTTP status sent; 0 when the connection was dropped
    success: bool | None  # the envelope's isSuccess, None when no envelope was sent
    body: dict[str, Any] | None
    fault: str | None
    writer: str | None = None  # the X-Copytrader-Writer header (holder#epoch), if sent
    account: str | None = None  # BotPrimeX: the account whose key was sent
    write_id: str | None = None  # the X-Copytrader-Write header (one write's resends share it)

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON-ready dict (for ``GET /_sim/requests``)."""
        return asdict(self)


@dataclass
class Fault:
    """One fault rule: hit ``times`` requests to ``path`` after skipping ``after`` of them."""

    path: str
    kind: str
    times: int = 1  # -1: until cleared
    retry_after: float = 1.0  # 429 only: sent as whole seconds (ceil) in Retry-After
    delay: float = 0.0  # slow/timeout: seconds to sleep (timeout defaults to 60)
    after: int = 0
    hits: int = 0  # how many requests this rule has hit so far (set by FaultPlan.take)
    method: str | None = None  # only requests of this method (None: any)
    account: str | None = None  # BotPrimeX: only requests with this account's key

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.times == 0 or self.times < -1:
            raise ValueError("times must be -1 or positive")
        if self.after < 0 or self.delay < 0 or self.retry_after < 0:
            raise ValueError("after, delay and retry_after must not be negative")

    def matches(
        self,
        path: str,
        *,
        method: str | None = None,
        account: str | None = None,
        template: str | None = None,
        paged: bool | None = None,
    ) -> bool:
        """Whether this rule applies to a request for ``path`` (``template``: its route's
        path with placeholders; ``paged``: whether it is a paginated listing, by default
        one of :data:`PAGED_PATHS`)."""
        if (self.kind in WEBHOOK_KINDS) != (path == WEBHOOK_PATH):
            return False
        listing = path in PAGED_PATHS if paged is None else paged
        if self.kind == "page_fail" and not listing:
            return False
        if self.method is not None and method is not None and self.method != method:
            return False
        if self.account is not None and self.account != account:
            return False
        return self.path in ("*", path, template)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """Build a rule from the control API's body; raises ValueError on a bad body."""
        known = {"path", "kind", "times", "retry_after", "delay", "after", "method", "account"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if not isinstance(data.get("path"), str) or not isinstance(data.get("kind"), str):
            raise ValueError("path and kind are required strings")
        for key in ("times", "after"):
            if key in data and (not isinstance(data[key], int) or isinstance(data[key], bool)):
                raise ValueError(f"{key} must be an integer")
        for key in ("retry_after", "delay"):
            value = data.get(key, 0)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ValueError(f"{key} must be a number")
        for key in ("method", "account"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ValueError(f"{key} must be a string")
        return cls(**data)


class FaultPlan:
    """The active fault rules. Single event loop: no locking."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Activate ``fault`` (after the rules already present)."""
        self._faults.append(fault)

    def clear(self) -> None:
        """Remove every rule."""
        self._faults.clear()

    @property
    def active(self) -> list[Fault]:
        """The rules still active, in order."""
        return list(self._faults)

    def take(
        self,
        path: str,
        *,
        method: str | None = None,
        account: str | None = None,
        template: str | None = None,
        paged: bool | None = None,
    ) -> Fault | None:
        """The fault that hits this request for ``path``, or None (the keywords as for
        :meth:`Fault.matches`).

        Every matching rule counts the request: a rule still skipping (``after``) consumes one
        skip; the first rule past its skips fires and uses one of its ``times``. A rule whose
        ``times`` are used up is removed.
        """
        fired: Fault | None = None
        for fault in list(self._faults):
            if not fault.matches(
                path, method=method, account=account, template=template, paged=paged
            ):
                continue
            if fault.after > 0:
                fault.after -= 1
                continue
            if fired is not None:
                continue
            fired = fault
            fault.hits += 1
            if fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
        return fired
