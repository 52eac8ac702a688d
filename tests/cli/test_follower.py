"""``copytrader follower add|remove|pause|unpause`` as a user runs it: real subprocesses
against the simulator, on a heavily commented policy file.

The file is compared byte for byte: every line not about the follower stays as it was. A
refusal leaves the file untouched. ``kill -9`` at random moments, many of them in the middle
of a write made slow on purpose (``COPYTRADER_TEST_SLOW_WRITE``), leaves the real file
either old or new, never torn.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from pathlib import Path

import pytest

from copytrader.policy import atomic, loader
from copytrader.sim.haas.server import SimServer
from tests.cli.test_commands import KEY, cli, sim, workdir
from tests.policy.commented import COMMENTED, F1, F2, F3, F4
from tests.policy.test_edit import changed_line, deleted, inserted

__all__ = ["sim", "workdir"]  # the fixtures this module uses


def grid_file(workdir: Path) -> Path:
    path = workdir / "policies" / "eth-grid.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    return path


async def follower(sim: SimServer, workdir: Path, *args: str) -> tuple[int, str, str]:
    return await cli(sim, workdir, "follower", *args)


@pytest.mark.timeout(300)
async def test_add_pause_unpause_remove_keep_every_other_line(
    sim: SimServer, workdir: Path
) -> None:
    path = grid_file(workdir)
    rel = "policies/eth-grid.yaml"
    code, out, err = await follower(
        sim, workdir, "add", rel, F4[:8], "--override", "stopValue=3600",
        "--override", "stopCondition=Price", "--scale", "investmentAmount=0.25",
    )
    assert code == 0, err
    assert out == f"added {F4} to {rel}\n"
    added = path.read_text(encoding="utf-8")
    _, block = inserted(COMMENTED, added)
    assert block == [
        f"  -   user: {F4}\n",
        "      overrides:\n",
        "        stopValue: 3600\n",
        "        stopCondition: Price\n",
        "      scale:\n",
        "        investmentAmount: 0.25\n",
    ]
    code, _, err = await cli(sim, workdir, "policy", "check")
    assert code == 0, err
    code, out, _ = await cli(sim, workdir, "plan", "--json")
    clone = next(
        a for a in json.loads(out)["actions"] if a["action"] == "clone" and a["follower"] == F4
        and a["master"].startswith("6daf")
    )
    assert clone["changes"]["stopValue"] == [None, 3600]
    assert clone["changes"]["investmentAmount"] == [None, 250]

    code, out, err = await follower(sim, workdir, "pause", rel, F4)
    assert (code, out) == (0, f"paused {F4} in {rel}\n"), err
    paused = path.read_text(encoding="utf-8")
    assert inserted(added, paused)[1] == ["      paused: true\n"]
    code, out, _ = await follower(sim, workdir, "pause", rel, F4)
    assert (code, out) == (0, f"{F4} is already paused in {rel}; nothing to change\n")
    assert path.read_text(encoding="utf-8") == paused

    code, _, err = await follower(sim, workdir, "unpause", rel, F3[:6])  # `paused: yes`
    assert code == 0, err
    unpaused = path.read_text(encoding="utf-8")
    assert changed_line(paused, unpaused) == (
        "      paused: yes          # on holiday\n",
        "      paused: false          # on holiday\n",
    )

    code, out, err = await follower(sim, workdir, "remove", rel, F4)
    assert (code, out) == (0, f"removed {F4} from {rel}\n"), err
    removed = path.read_text(encoding="utf-8")
    assert deleted(unpaused, removed)[1] == [*block, "      paused: true\n"]
    code, _, _ = await follower(sim, workdir, "pause", rel, F3)
    # back to the very bytes it started as, but for the one value written as `true`
    assert path.read_text(encoding="utf-8") == COMMENTED.replace(
        "paused: yes          #", "paused: true          #"
    )


@pytest.mark.timeout(300)
async def test_refusals_exit_2_naming_the_problem_and_leave_the_file(
    sim: SimServer, workdir: Path
) -> None:
    path = grid_file(workdir)
    rel = "policies/eth-grid.yaml"
    for twin in ("twin-1", "twin-2"):
        sim.state.create_user("BITMEXSPOT", user_id=twin)
    cases = [
        (
            ("add", rel, "twin"),
            "'twin' is ambiguous: twin-1, twin-2 all start with it; give more of it",
        ),
        (("add", rel, "no-such-user"), "follower user no-such-user not found on the platform"),
        (("add", rel, F4, "--override", "symbol=BITMEX_ETH_USDT_ETHUSDT"),
         "symbol is locked: it cannot be overridden"),
        (("add", rel, F4, "--scale", "investmentAmount=half"),
         "--scale investmentAmount=half: the factor must be a number"),
        (("add", rel, F4, "--override", "stopValue"), "--override 'stopValue': expected K=V"),
        (("add", rel, F4, "--override", "stopValue=1", "--override", "stopValue=2"),
         "--override stopValue is given twice"),
        (("add", rel, F4, "--override", "stopValue=[1, 2]"), "is not a single YAML value"),
        (("add", rel, F2), f"user {F2} is already listed in this file"),
        (("remove", rel, F4), f"no follower in {rel} starts with '{F4}'"),
        (("pause", rel, F4), f"no follower in {rel} starts with '{F4}'"),
        (("unpause", rel, "zzz"), f"no follower in {rel} starts with 'zzz'"),
        (("add", "policies/missing.yaml", F4), "policies/missing.yaml: no such policy file"),
    ]
    for args, message in cases:
        code, out, err = await follower(sim, workdir, *args)
        assert code == 2, (args, err)
        assert out == ""
        assert message in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err
        assert path.read_bytes() == COMMENTED.encode(), args
    writes = len(sim.state.writes())
    assert writes == 0  # nothing ever sent to the platform but reads


async def test_adds_at_once_all_land(sim: SimServer, workdir: Path) -> None:
    path = grid_file(workdir)
    users = [sim.state.create_user("BITMEXSPOT") for _ in range(3)]
    results = await asyncio.gather(
        *(follower(sim, workdir, "add", "policies/eth-grid.yaml", u) for u in users)
    )
    assert [r[0] for r in results] == [0, 0, 0], results
    policy, problems = loader.load_file(path)
    assert problems == [] and policy is not None
    assert {f.user for f in policy.followers} == {F1, F2, F3, *users}


@pytest.mark.timeout(300)  # a dozen subprocesses on a shared machine
async def test_kill_9_at_random_moments_leaves_the_file_old_or_new(
    sim: SimServer, workdir: Path
) -> None:
    path = grid_file(workdir)
    env = {
        **os.environ,
        "COPYTRADER_API_URL": sim.url,
        "COPYTRADER_API_KEY": KEY,
        "COPYTRADER_DATABASE_URL": f"sqlite:///{workdir / 'ct.db'}",
        "COPYTRADER_POLICY_DIR": str(workdir / "policies"),
        atomic.SLOW_WRITE_ENV: "0.03",  # about 0.3 s from the first byte to the rename
    }
    rng = random.Random(14)
    mid_write = finished = 0
    for round_ in range(12):
        old = path.read_bytes()
        has_f4 = F4.encode() in old
        op = ["remove", str(path), F4] if has_f4 else ["add", str(path), F4, "--scale",
                                                        "investmentAmount=0.5"]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "copytrader.cli.main", "follower", *op,
            env=env, cwd=workdir, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        if round_ % 3 != 2:  # two rounds in three: kill while the temp file is being written
            deadline = time.monotonic() + 30
            while not _temps(path) and proc.returncode is None:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.005)
            await asyncio.sleep(rng.uniform(0, 0.3))
        else:  # any moment, start-up and checks included
            await asyncio.sleep(rng.uniform(0, 2.0))
        if proc.returncode is None:
            if _temps(path):
                mid_write += 1
            proc.send_signal(signal.SIGKILL)
        else:
            finished += 1
        await proc.wait()
        now = path.read_bytes()
        assert now in (old, _expected_new(old, has_f4)), f"round {round_}: torn file"
        policy, problems = loader.load_file(path)
        assert problems == [] and policy is not None
    assert mid_write >= 4, (mid_write, finished)  # the test did kill writes in the middle
    # The next edit clears what killed ones left behind and works.
    code, _, err = await follower(sim, workdir, "pause", str(path), F1)
    assert code == 0, err
    assert not _temps(path)
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []


def _temps(path: Path) -> list[Path]:
    return [p for p in path.parent.iterdir() if p.name.endswith(atomic.TEMP_SUFFIX)]


def _expected_new(old: bytes, has_f4: bool) -> bytes:
    from copytrader.policy import edit

    text = old.decode()
    if has_f4:
        return edit.remove(text, F4).encode()
    return edit.add(text, edit.Entry(F4, scale=(("investmentAmount", "0.5"),))).encode()
