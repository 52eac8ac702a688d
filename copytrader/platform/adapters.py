"""Which adapter drives which platform (``COPYTRADER_PLATFORM``): the one place a
platform's name picks its code. Everything past this point sees only the ``Platform`` port
and the values the adapter hands over."""

from __future__ import annotations

from collections.abc import Callable

from copytrader.platform.botprimex.client import BotPrimeXClient
from copytrader.platform.haas.client import PlatformClient
from copytrader.platform.transport import RequestObserver
from copytrader.settings import PlatformSettings

#: A platform client of any kind (each satisfies ``copytrader.reconcile.ports.Platform``).
Adapter = PlatformClient | BotPrimeXClient

_FACTORIES: dict[str, Callable[..., Adapter]] = {
    "haas": PlatformClient.from_settings,
    "botprimex": BotPrimeXClient.from_settings,
}


def from_settings(
    settings: PlatformSettings, *, observer: RequestObserver | None = None
) -> Adapter:
    """The client of ``settings.kind``, configured from ``settings`` (not connected yet)."""
    return _FACTORIES[settings.kind](settings, observer=observer)
