"""What a platform adapter can do beyond the reconcile port, declared by the adapter.

A command that needs such a feature asks the adapter (``Capability.BACKTESTS in
platform.capabilities``) rather than the platform's name, so a platform without it (BotPrimeX
has no backtests) is a one-line refusal, and a platform that gains it needs no change there.
"""

from __future__ import annotations

import enum


class Capability(enum.StrEnum):
    """A feature some platforms have."""

    #: Backtests of bot settings over past prices (HaasOnline's ``/bots/backtest``); the
    #: adapter's ``backtests`` attribute is then a ``copytrader.backtest.ports.Backtester``.
    BACKTESTS = "backtests"
