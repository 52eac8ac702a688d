"""The pass records each policy master's settings and script (the dashboard computes desired
settings from them), and rewrites them only when the master changed."""

from __future__ import annotations

from copytrader.core.model import Status
from copytrader.reconcile import wiring
from copytrader.settings import Settings
from copytrader.sim.botprimex.server import BpxServer
from copytrader.sim.haas.server import SimServer
from copytrader.store import states
from copytrader.web import follower
from copytrader.web.dashboard import Dashboard
from tests.bpx_world import ALICE, BTC
from tests.reconcile.conftest import GRID


async def test_a_master_is_recorded_once_and_again_when_it_changes(
        sim: SimServer, svc: wiring.Service) -> None:
    assert await states.load(svc.store, GRID) is None
    await svc.reconciler.run_pass()
    first = await states.load(svc.store, GRID)
    assert first is not None and first.status is Status.RUNNING
    assert first.bot_type == "spot_grid"
    assert first.settings["investmentAmount"] == sim.state.bot(GRID)["settings"][
        "investmentAmount"]
    script = (await svc.platform.catalogue()).script("spot_grid")
    assert script is not None

    def specs(s: object) -> list[tuple[object, ...]]:
        return [(x.key, x.type, x.default, x.can_be_edited, x.options, x.name)
                for x in s.settings]  # type: ignore[attr-defined]

    assert specs(first.script) == specs(script) and first.script.name == script.name

    await svc.reconciler.run_pass()  # nothing changed: not written again
    again = await states.load(svc.store, GRID)
    assert again is not None and again.seen_at == first.seen_at

    sim.state.edit_out_of_band(GRID, {"stopValue": 3900})
    await svc.reconciler.run_pass()
    edited = await states.load(svc.store, GRID)
    assert edited is not None and edited.settings["stopValue"] == 3900
    assert edited.seen_at > first.seen_at

    sim.state.stop(GRID)
    await svc.reconciler.run_pass()
    stopped = await states.load(svc.store, GRID)
    assert stopped is not None and stopped.status is Status.STOPPED


async def test_on_botprimex_the_master_is_named_by_its_bot_name_and_desired_is_computed(
        bpx: BpxServer, bpx_svc: wiring.Service, bpx_config: Settings) -> None:
    """The dashboard's follower page on BotPrimeX: the master's recorded state names it, and
    the desired settings computed from it (and the policy) match the clone copytrader made."""
    assert (await bpx_svc.reconciler.run_pass()).converged
    assert await states.names(bpx_svc.store) == {BTC: "BTC DCA"}
    board = Dashboard(bpx_svc.store, bpx_config.policy_dir)
    doc = await follower.detail(bpx_svc.store, board.load_policies, BTC, ALICE)
    assert doc is not None and doc["settings_note"] is None
    by_key = {s["key"]: s for s in doc["settings"]}
    assert (by_key["stake_amount"]["value"], by_key["stake_amount"]["layer"]) == (50, "scale")
    assert (by_key["stop_loss"]["value"], by_key["stop_loss"]["layer"]) == (-3, "override")
    assert all(s["same"] for s in doc["settings"]), doc["settings"]
