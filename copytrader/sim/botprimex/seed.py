"""The BotPrimeX demo world: a master account with three masters, four follower accounts.

Ids are fixed (the demo policies name them); keys are given or made at random. The master
account (``pro``) has Binance and Kraken connected; ``alice`` (standard) and ``carol``
(standard) Binance, ``bob`` (pro) both, ``dave`` (enterprise) Kraken only, so a policy that
lists dave for a Binance master is refused by ``policy check``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import NamedTuple

from copytrader.sim.botprimex.state import BpxState

MASTER_ACCOUNT = "master"
#: Follower account -> (plan, connected exchanges).
FOLLOWERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "alice": ("standard", ("binance",)),
    "bob": ("pro", ("binance", "kraken")),
    "carol": ("standard", ("binance",)),
    "dave": ("enterprise", ("kraken",)),
}


class DemoIds(NamedTuple):
    """Ids created by :func:`seed_demo`."""

    btc_dca: str
    eth_grid: str
    sol_signal: str


DEMO = DemoIds(
    btc_dca="bot_5e1f0c2a9b3d4e67",
    eth_grid="bot_8a2c4e6f1b3d5a79",
    sol_signal="bot_c3b1a2f4e5d6a8b0",
)

_MASTERS = (
    (
        DEMO.btc_dca,
        {
            "name": "BTC DCA",
            "exchange": "binance",
            "pair": "BTC/USDT",
            "strategy": "dca",
            "stake_amount": 100,
            "max_open_trades": 3,
            "stop_loss": -8,
            "dry_run": False,
        },
    ),
    (
        DEMO.eth_grid,
        {
            "name": "ETH grid",
            "exchange": "binance",
            "pair": "ETH/USDT",
            "strategy": "grid",
            "stake_amount": 50,
            "max_open_trades": 5,
            "stop_loss": -12,
            "dry_run": False,
        },
    ),
    (
        DEMO.sol_signal,
        {
            "name": "SOL signal",
            "exchange": "kraken",
            "pair": "SOL/USD",
            "strategy": "signal",
            "stake_amount": 20,
            "max_open_trades": 2,
            "stop_loss": -5,
            "dry_run": True,
        },
    ),
)


def new_key() -> str:
    """A fresh random API key."""
    return "bpx_" + secrets.token_urlsafe(24)


def seed_accounts(
    state: BpxState,
    master_key: str,
    keys: Mapping[str, str] | None = None,
    *,
    webhook_url: str | None = None,
) -> dict[str, str]:
    """Create the master account and the demo follower accounts, plus any other account
    ``keys`` names (standard plan, Binance); a follower without a key in ``keys`` gets a
    random one. Returns each follower account's key."""
    made = dict(keys or {})
    state.add_account(
        MASTER_ACCOUNT,
        master_key,
        plan="pro",
        exchanges=("binance", "kraken"),
        webhook_url=webhook_url,
        account_id="acc_000000000000master",
    )
    for name in [*FOLLOWERS, *(n for n in made if n not in FOLLOWERS)]:
        plan, exchanges = FOLLOWERS.get(name, ("standard", ("binance",)))
        key = made.setdefault(name, new_key())
        state.add_account(
            name,
            key,
            plan=plan,
            exchanges=exchanges,
            webhook_url=webhook_url,
            account_id=f"acc_{name[-16:]:0>16}",
        )
    return made


def seed_masters(state: BpxState) -> DemoIds:
    """The three running masters in the master account (same ids always)."""
    master = state.accounts[MASTER_ACCOUNT]
    for bot_id, fields in _MASTERS:
        state.create_bot(master, fields, bot_id=bot_id, status="running")
    return DEMO


def seed_demo(
    state: BpxState,
    master_key: str,
    keys: Mapping[str, str] | None = None,
    *,
    webhook_url: str | None = None,
) -> dict[str, str]:
    """:func:`seed_accounts` and :func:`seed_masters`; returns the follower accounts' keys."""
    made = seed_accounts(state, master_key, keys, webhook_url=webhook_url)
    seed_masters(state)
    return made
