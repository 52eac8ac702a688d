"""The BotPrimeX API's route table: base URL, auth header and every path in one place.

Retry classes (:class:`copytrader.platform.routes.Route`): reads are always resent. A
``PATCH`` is idempotent. Start and stop are resent after an ambiguous failure too: BotPrimeX
refuses to start a running bot (``already_running``) and to stop a stopped one
(``already_stopped``), and the client reads that refusal as the state it names, so a repeat
can neither start twice nor fail a start that happened. A create (``POST /bots``) and a
delete are sent at most once per call after the request may have reached the platform: a
lost create is found on the next pass by copytrader's tag (:mod:`copytrader.core.tags`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from copytrader.platform.routes import Route

__all__ = ["AUTH_HEADER", "DOCUMENTED_BASE_URL", "ROUTES", "Route"]

#: The documented base URL (``COPYTRADER_API_URL`` sets the one used).
DOCUMENTED_BASE_URL = "https://api.botprimex.com/v1"
#: The header that carries the key, as ``Bearer <key>``.
AUTH_HEADER = "Authorization"


def _read(path: str) -> Route:
    return Route("GET", path, idempotent=True, read=True)


ROUTES: Mapping[str, Route] = MappingProxyType(
    {
        "bots.list": _read("/bots"),
        "bots.get": _read("/bots/{botId}"),
        "bots.create": Route("POST", "/bots", idempotent=False),
        "bots.edit": Route("PATCH", "/bots/{botId}", idempotent=True),
        "bots.delete": Route("DELETE", "/bots/{botId}", idempotent=False),
        "bots.start": Route("POST", "/bots/{botId}/start", idempotent=True),
        "bots.stop": Route("POST", "/bots/{botId}/stop", idempotent=True),
        "bots.trades": _read("/bots/{botId}/trades"),
        "portfolio": _read("/portfolio"),
        "portfolio.history": _read("/portfolio/history"),
        "trades.list": _read("/trades"),
        "trades.get": _read("/trades/{tradeId}"),
        "account": _read("/account"),
        "account.subscription": _read("/account/subscription"),
        "exchanges.list": _read("/exchanges"),
        "exchanges.connect": Route("POST", "/exchanges", idempotent=False, secret_body=True),
        "exchanges.disconnect": Route("DELETE", "/exchanges/{exchangeId}", idempotent=False),
    }
)
