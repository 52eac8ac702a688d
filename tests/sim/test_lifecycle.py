"""Clone, edit, start, stop and delete follow partner-api.md's semantics."""

from __future__ import annotations

from copytrader.sim.haas.seed import DemoIds, seed_demo
from copytrader.sim.haas.state import SimState
from tests.sim.conftest import Api


async def _clone(api: Api, user: str, bot: str, follow: bool, settings: object = None
                 ) -> dict[str, object]:
    return await api.env("/bots/clone", {"userId": user, "botId": bot, "followUpdates": follow,
                                          "settings": settings if settings is not None else {}})


async def test_clone_merges_starts_stopped_and_counts(api: Api, state: SimState) -> None:
    ids = seed_demo(state)
    env = await _clone(api, ids.spot_followers[0], ids.spot_grid_master, False,
                               {"investmentAmount": 250, "stopValue": 3500})
    assert env["isSuccess"] is True
    copy = env["data"]
    assert isinstance(copy, dict)
    master = state.bot(ids.spot_grid_master)
    assert copy["status"] == "stopped" and copy["masterBotId"] == ""
    assert copy["userId"] == ids.spot_followers[0] and copy["botId"] != master["botId"]
    expected = dict(master["settings"], investmentAmount=250, stopValue=3500)
    assert copy["settings"] == expected
    assert (master["cloned"], master["followers"]) == (1, 0)
    # An independent copy can be edited, even where the master could not push.
    assert await api.data("/bots/edit", {"userId": copy["userId"], "botId": copy["botId"],
                                         "settings": {"stopValue": 3600}}) is True


async def test_clone_refuses_other_exchange_unknown_and_bad_settings(
    api: Api, state: SimState
) -> None:
    ids = seed_demo(state)
    for user, bot, settings in [
        (ids.futures_followers[0], ids.spot_grid_master, {}),  # BITMEX user, BITMEXSPOT bot
        (ids.spot_followers[0], "0" * 32, {}),
        ("no-such-user", ids.spot_grid_master, {}),
        (ids.spot_followers[0], ids.spot_grid_master, {"unknownKey": 1}),
        (ids.spot_followers[0], ids.spot_grid_master, {"gridMode": "Spiral"}),
    ]:
        env = await _clone(api, user, bot, False, settings)
        assert env["isSuccess"] is False, (user, bot, settings)
    env = await api.env("/bots/clone", {"userId": ids.spot_followers[0],
                                                 "botId": ids.spot_grid_master})
    assert env["isSuccess"] is False  # followUpdates is required
    assert state.bots_of(ids.spot_followers[0]) == []
    assert state.bots_of(ids.futures_followers[0]) == []
    assert state.bot(ids.spot_grid_master)["cloned"] == 0


async def test_follow_updates_links_pushes_and_refuses_edit(api: Api, state: SimState) -> None:
    ids = seed_demo(state)
    env = await _clone(api, ids.spot_followers[1], ids.spot_grid_master, True)
    copy = env["data"]
    assert isinstance(copy, dict) and copy["masterBotId"] == ids.spot_grid_master
    master = state.bot(ids.spot_grid_master)
    assert (master["cloned"], master["followers"]) == (1, 1)
    assert await api.data("/bots/edit", {"userId": ids.spot_owner,
                                         "botId": ids.spot_grid_master,
                                         "settings": {"stopCondition": "Price",
                                                      "stopValue": 4200}}) is True
    pushed = state.bot(str(copy["botId"]))["settings"]
    assert (pushed["stopCondition"], pushed["stopValue"]) == ("Price", 4200)
    env = await api.env("/bots/edit", {"userId": ids.spot_followers[1],
                                                "botId": copy["botId"],
                                                "settings": {"stopValue": 1}})
    assert env["isSuccess"] is False and str(copy["botId"]) in str(env["message"])
    assert state.bot(str(copy["botId"]))["settings"]["stopValue"] == 4200
    await api.data("/bots/delete", {"botId": copy["botId"]})
    assert state.bot(ids.spot_grid_master)["followers"] == 0


async def test_edit_refuses_immutable_unknown_and_bad_values(api: Api, state: SimState) -> None:
    ids = seed_demo(state)
    before = state.bot(ids.spot_grid_master)["settings"]
    for settings, word in [({"investmentAmount": 5}, "investmentAmount"),
                           ({"symbol": "BITMEXSPOT_BTC_USDT_"}, "symbol"),
                           ({"stopCondition": "Moon"}, "stopCondition"),
                           ({"stopValue": "high"}, "stopValue"),
                           ({"nope": 1}, "nope"),
                           ({"stopExit": True, "gridCount": 9}, "gridCount")]:
        env = await api.env("/bots/edit", {"userId": ids.spot_owner,
                                                    "botId": ids.spot_grid_master,
                                                    "settings": settings})
        assert env["isSuccess"] is False and word in env["message"], settings
    assert state.bot(ids.spot_grid_master)["settings"] == before
    env = await api.env("/bots/edit", {"userId": ids.futures_owner,
                                                "botId": ids.spot_grid_master,
                                                "settings": {"stopValue": 1}})
    assert env["isSuccess"] is False  # not that user's bot


async def test_start_stop_delete_and_counters(api: Api, state: SimState) -> None:
    ids: DemoIds = seed_demo(state)
    bot = ids.spot_dca_master
    env = await api.env("/bots/start", {"botId": bot})
    assert env["isSuccess"] is False  # already running
    assert await api.data("/bots/stop", {"botId": bot}) is True
    assert await api.data("/bots/stop", {"botId": bot}) is True  # stopping a stopped bot: ok
    assert state.bot(bot)["status"] == "stopped"
    owner = await api.data("/users/user", {"userId": ids.spot_owner})
    assert (owner["botsStarted"], owner["botsActive"]) == (2, 1)
    assert await api.data("/bots/start", {"botId": bot}) is True
    owner = await api.data("/users/user", {"userId": ids.spot_owner})
    assert (owner["botsStarted"], owner["botsActive"]) == (3, 2)
    state.set_status(bot, "error")
    env = await api.env("/bots/start", {"botId": bot})
    assert env["isSuccess"] is False  # only a stopped bot starts
    assert state.bot(bot)["status"] == "error"
    assert await api.data("/bots/delete", {"botId": bot}) is True
    env = await api.env("/bots/bot", {"userId": ids.spot_owner, "botId": bot})
    assert env["isSuccess"] is False
    env = await api.env("/bots/delete", {"botId": bot})
    assert env["isSuccess"] is False
    env = await api.env("/bots/start", {"botId": bot})
    assert env["isSuccess"] is False


async def test_delete_user_refused_while_it_has_bots(api: Api, state: SimState) -> None:
    ids = seed_demo(state)
    env = await api.env("/users/delete", {"userId": ids.futures_owner})
    assert env["isSuccess"] is False
    await api.data("/bots/delete", {"botId": ids.futures_grid_master})
    assert await api.data("/users/delete", {"userId": ids.futures_owner}) is True


def test_out_of_band_changes(state: SimState) -> None:
    ids = seed_demo(state)
    state.edit_out_of_band(ids.spot_grid_master, {"investmentAmount": 77, "gridCount": 5})
    assert state.bot(ids.spot_grid_master)["settings"]["investmentAmount"] == 77
    state.set_status(ids.spot_grid_master, "stopped")
    assert state.bot(ids.spot_grid_master)["status"] == "stopped"
    state.delete_out_of_band(ids.spot_grid_master)
    assert ids.spot_grid_master not in state.bot_ids()
    assert state.writes() == []  # out-of-band changes are not requests
