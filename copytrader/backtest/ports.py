"""What the backtest service needs of a platform: the :class:`Backtester` port (kept apart
from the reconcile service's ``Platform`` port, which does not grow for it) and the reads a
policy check makes. A platform adapter offers backtests by declaring
:attr:`copytrader.platform.capabilities.Capability.BACKTESTS` and a ``backtests`` attribute.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from copytrader.core import backtest as core
from copytrader.core.model import Bot, Catalogue, User
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
    """A platform adapter as ``policy backtest`` uses it."""

    @property
    def name(self) -> str: ...
    @property
    def capabilities(self) -> frozenset[Capability]: ...
    @property
    def backtests(self) -> Backtester:
        """Only used when ``Capability.BACKTESTS`` is declared."""
        ...

    def iter_bots(self, page_size: int = -1) -> AsyncIterator[Bot]: ...
    def iter_users(self, page_size: int = -1) -> AsyncIterator[User]: ...
    async def catalogue(self) -> Catalogue: ...
