"""What the backtest service needs of a platform: the :class:`Backtester` port (kept apart
from the reconcile service's ``Platform`` port, which does not grow for it) and the reads a
policy check makes. A platform adapter offers backtests by declaring
:attr:`copytrader.platform.capabilities.Capability.BACKTESTS` in its ``capabilities`` and
a ``backtests`` attribute (:func:`backtests_of`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Collection, Mapping
from typing import Protocol, runtime_checkable

from copytrader.core import backtest as core
from copytrader.core.model import Catalogue, SweepPart, User
from copytrader.platform.capabilities import Capability


class Backtester(Protocol):
    """Backtests on a platform. Errors: ``copytrader.errors.PlatformError``."""

    async def start(self, request: core.Request) -> str:
        """Start one backtest; its id."""
        ...

    async def status(self, backtest_id: str) -> core.Status: ...
    async def results(self, backtest_id: str) -> core.Metrics:
        """The figures of a completed backtest."""
        ...

    async def cancel(self, backtest_id: str) -> None: ...


class Platform(Protocol):
    """A platform adapter as ``policy backtest`` uses it: what it declares, and the reads of
    a policy check (``copytrader.policy.check.PlatformReader``)."""

    @property
    def name(self) -> str: ...
    @property
    def capabilities(self) -> frozenset[Capability]: ...

    def sweep(self, *, masters_only: bool = False) -> AsyncGenerator[SweepPart, None]: ...
    def iter_users(self, page_size: int = -1) -> AsyncIterator[User]: ...
    async def verified_users(self, user_ids: Collection[str]) -> Mapping[str, User]: ...
    async def catalogue(self) -> Catalogue: ...


@runtime_checkable
class _WithBacktests(Protocol):
    @property
    def backtests(self) -> Backtester: ...


def backtests_of(platform: Platform) -> Backtester | None:
    """The platform's backtests, or None when its adapter does not declare any."""
    if Capability.BACKTESTS not in platform.capabilities:
        return None
    if not isinstance(platform, _WithBacktests):  # declared but not offered: an adapter bug
        raise TypeError(f"the {platform.name} adapter declares backtests but has none")
    return platform.backtests
