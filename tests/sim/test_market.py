"""ROI and profit move while a bot runs and freeze while it is stopped."""

from __future__ import annotations

from copytrader.sim.haas.market import PriceWalk
from copytrader.sim.haas.seed import seed_demo
from copytrader.sim.haas.state import SimState
from tests.sim.conftest import FakeClock


def test_walk_is_deterministic_per_seed_and_lazy(clock: FakeClock) -> None:
    a, b, c = PriceWalk(1, clock), PriceWalk(1, clock), PriceWalk(2, clock)
    clock.advance(500)
    sym = "BITMEXSPOT_ETH_USDT_"
    assert a.price(sym) == b.price(sym) != c.price(sym)
    assert a.price(sym, 0) == 3500.0
    assert a.travelled(sym, 500) > 0
    assert a.price("UNKNOWN_X_Y_") > 0  # unknown symbols still have a price


def test_running_bots_move_and_stopped_bots_freeze(state: SimState, clock: FakeClock) -> None:
    ids = seed_demo(state)
    user = ids.spot_followers[0]
    stopped = state.create_bot(user, "spot_grid", {"symbol": "BITMEXSPOT_ETH_USDT_",
                                                   "lowerLimit": 3000, "upperLimit": 4000,
                                                   "investmentAmount": 100},
                               status="stopped")["botId"]
    clock.advance(300)
    for bot_id in (ids.spot_grid_master, ids.futures_grid_master, ids.spot_dca_master):
        bot = state.bot(bot_id)
        assert bot["roi"] != 0 and bot["profit"] != 0, bot_id
    assert (state.bot(stopped)["roi"], state.bot(stopped)["profit"]) == (0, 0)
    state.stop(ids.spot_dca_master)
    frozen = state.bot(ids.spot_dca_master)["roi"]
    clock.advance(300)
    assert state.bot(ids.spot_dca_master)["roi"] == frozen
    moving = state.bot(ids.spot_grid_master)["profit"]
    clock.advance(300)
    assert state.bot(ids.spot_grid_master)["profit"] != moving
    # roi is profit over the investment, in percent
    bot = state.bot(ids.spot_grid_master)
    assert abs(bot["roi"] - bot["profit"] / 1000 * 100) < 1e-3


def test_edit_keeps_earned_profit(state: SimState, clock: FakeClock) -> None:
    ids = seed_demo(state)
    clock.advance(200)
    before = state.bot(ids.spot_grid_master)["profit"]
    state.edit(ids.spot_grid_master, {"stopValue": 3100})
    assert abs(state.bot(ids.spot_grid_master)["profit"] - before) < 1e-6


def test_same_seed_same_world() -> None:
    clocks = [FakeClock(), FakeClock()]
    states = [SimState(seed=3, clock=c) for c in clocks]
    for s, c in zip(states, clocks, strict=True):
        seed_demo(s)
        s.create_user("BINANCE")
        c.advance(120)
    assert states[0].bots_json(states[0].bot_ids()) == states[1].bots_json(states[1].bot_ids())
    assert states[0].user_ids() == states[1].user_ids()
