"""HaasOnline's backtests (``/bots/backtest`` and its status, results and cancel routes) as
the :class:`copytrader.backtest.ports.Backtester` port, over the client's rate-limited
transport. Responses are mapped to :mod:`copytrader.core.backtest` values; a figure the
platform leaves out (or sends as text) is None, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from copytrader.core import backtest as core
from copytrader.errors import MalformedResponseError

if TYPE_CHECKING:
    from copytrader.platform.haas.client import PlatformClient


def _object(endpoint: str, data: object) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise MalformedResponseError(
            f"expected an object, got {type(data).__name__}", endpoint=endpoint
        )
    return data


def _id(endpoint: str, data: Mapping[str, Any]) -> str:
    value = data.get("backtestId")
    if not isinstance(value, str) or not value:
        raise MalformedResponseError("backtestId missing", endpoint=endpoint)
    return value


def _part(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    part = data.get(key)
    return part if isinstance(part, dict) else {}


def status(data: object) -> core.Status:
    """A status answer as a :class:`~copytrader.core.backtest.Status`."""
    d = _object("backtest.status", data)
    progress = core.finite(d.get("progress"))
    return core.Status(
        backtest_id=_id("backtest.status", d),
        state=core.State.parse(d.get("state")),
        progress=int(max(0.0, min(100.0, progress))) if progress is not None else 0,
        message=str(d.get("message") or ""),
    )


def metrics(data: object) -> core.Metrics:
    """The figures of a results answer. The platform sends the drawdown as a negative
    percentage (``maxDrawdownPercent: -4.52``) and the win rate as a share (0.68)."""
    d = _object("backtest.results", data)
    summary, perf, positions = (_part(d, k) for k in ("summary", "performance", "positions"))
    drawdown = core.finite(perf.get("maxDrawdownPercent"))
    trades = core.finite(positions.get("closedPositions"))
    return core.Metrics(
        roi=core.finite(summary.get("roi")),
        max_drawdown_pct=abs(drawdown) if drawdown is not None else None,
        profit_factor=core.finite(perf.get("profitFactor")),
        win_rate=core.finite(perf.get("winPercentage")),
        profit=core.finite(summary.get("realizedProfit")),
        trades=int(trades) if trades is not None else None,
    )


class HaasBacktests:
    """Start, poll, read and cancel HaasOnline backtests through ``client``."""

    def __init__(self, client: PlatformClient) -> None:
        self._client = client

    async def start(self, request: core.Request) -> str:
        """Start one backtest; its id. Sent once (not retried after an ambiguous failure:
        a lost answer leaves a backtest running on the platform, never a bot)."""
        body = {
            "userId": request.user_id,
            "type": request.type,
            "exchangeId": request.exchange_id,
            "settings": dict(request.settings),
            "startUnix": request.start_unix,
            "endUnix": request.end_unix,
        }
        data = await self._client.call("backtest.run", body)
        return _id("backtest.run", _object("backtest.run", data))

    async def status(self, backtest_id: str) -> core.Status:
        data = await self._client.call("backtest.status", path_params={"backtestId": backtest_id})
        return status(data)

    async def results(self, backtest_id: str) -> core.Metrics:
        data = await self._client.call(
            "backtest.results", path_params={"backtestId": backtest_id}
        )
        return metrics(data)

    async def cancel(self, backtest_id: str) -> None:
        await self._client.call("backtest.cancel", path_params={"backtestId": backtest_id})
