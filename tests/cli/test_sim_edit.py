"""``copytrader sim edit|start|stop``: a strategy manager's change to a running simulator's
master, sent through the partner API by a real subprocess."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from copytrader.sim.haas.server import SimServer
from tests.reliability.support import run_cli, subprocess_env
from tests.world import GRID, demo_sim

KEY = "sim-edit-key"


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with demo_sim(KEY, seed=5) as server:
        yield server


def target(sim: SimServer) -> list[str]:
    url = urlsplit(sim.url)
    return ["--host", str(url.hostname), "--port", str(url.port), "--api-key", KEY]


async def test_sim_edit_changes_a_master_by_prefix_with_yaml_values(sim: SimServer) -> None:
    code, out, err = await run_cli(
        "sim", "edit", GRID[:8], "stopValue=3900", "stopExit=true", "stopCondition=Price",
        *target(sim), env=subprocess_env(),
    )
    assert code == 0, err
    settings = sim.state.bot(GRID)["settings"]
    assert (settings["stopValue"], settings["stopExit"], settings["stopCondition"]) == (
        3900, True, "Price")
    owner = sim.state.bot(GRID)["userId"]
    assert out.strip() == (
        f"edited {GRID} (spot_grid of user {owner}): stopValue: 3900, stopExit: true, "
        "stopCondition: Price"
    )
    [edit] = sim.state.writes("/bots/edit")
    assert edit.status == 200


async def test_sim_stop_and_start(sim: SimServer) -> None:
    for verb, status in (("stop", "stopped"), ("start", "running")):
        code, out, err = await run_cli("sim", verb, GRID, *target(sim), env=subprocess_env())
        assert code == 0, err
        assert out.strip() == f"{'stopped' if verb == 'stop' else 'started'} {GRID}"
        assert sim.state.bot(GRID)["status"] == status


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["edit", "ffffffff", "stopValue=1"],
            "no bot on the simulator at {url} starts with 'ffffffff'",
        ),
        (["edit", GRID, "stopValue"], "'stopValue': expected KEY=VALUE, such as stopValue=3900"),
        (["edit", GRID, "=3"], "'=3': expected KEY=VALUE, such as stopValue=3900"),
        (["edit", GRID, "stopValue=[1, 2]"], "'stopValue=[1, 2]': the value must be a single "
         "value, not a list or mapping"),
    ],
)
async def test_sim_edit_refuses_naming_the_problem(
    sim: SimServer, args: list[str], message: str
) -> None:
    code, out, err = await run_cli("sim", *args, *target(sim), env=subprocess_env())
    assert (code, out) == (2, "")
    url = sim.url.rstrip("/")
    assert err.strip() == f"copytrader sim edit: {message.format(url=url)}"


async def test_an_edit_the_simulator_refuses_is_exit_1(sim: SimServer) -> None:
    code, _, err = await run_cli(
        "sim", "edit", GRID, "noSuchSetting=1", *target(sim), env=subprocess_env()
    )
    assert code == 1 and err.startswith("copytrader sim edit: ") and "Traceback" not in err


async def test_sim_edit_on_the_botprimex_simulator() -> None:
    from copytrader.sim.botprimex.seed import DEMO, seed_demo
    from copytrader.sim.botprimex.server import BpxServer
    from copytrader.sim.botprimex.state import BpxState

    state = BpxState()
    seed_demo(state, KEY)
    async with BpxServer(state) as server:
        url = urlsplit(server.url)
        where = ["--host", str(url.hostname), "--port", str(url.port), "--api-key", KEY]
        code, out, err = await run_cli(
            "sim", "edit", DEMO.eth_grid[:12], "max_open_trades=6", "stop_loss=-10",
            *where, "--platform", "botprimex", env=subprocess_env(),
        )
        assert code == 0, err
        assert out.startswith(f"edited {DEMO.eth_grid} (") and "max_open_trades: 6" in out
        bot = state.bots[DEMO.eth_grid].to_json()
        assert (bot["max_open_trades"], bot["stop_loss"]) == (6, -10)
        code, _, err = await run_cli(
            "sim", "edit", DEMO.eth_grid, "pair=SOL/USDT", *where, "--platform", "botprimex",
            env=subprocess_env(),
        )
        assert code == 1 and "Traceback" not in err  # an immutable field: refused
        code, out, err = await run_cli(
            "sim", "stop", DEMO.eth_grid, *where, env=subprocess_env(COPYTRADER_PLATFORM=
                                                                      "botprimex"),
        )
        assert code == 0, err
        assert state.bots[DEMO.eth_grid].to_json()["status"] == "stopped"
