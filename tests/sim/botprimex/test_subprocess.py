"""``copytrader sim --platform botprimex`` as a real process: it writes an accounts file
with fresh keys (0600) or reads the one given, prints every account with its plan and key,
and a copytrader deployment configured from that file converges against it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import sys
from pathlib import Path

from copytrader.sim.botprimex.seed import DEMO
from tests.reliability.support import run_cli, subprocess_env
from tests.sim.test_subprocess import _free_port
from tests.world import write_policy


async def _start(port: int, accounts: Path) -> tuple[asyncio.subprocess.Process, list[str]]:
    env = dict(os.environ, COPYTRADER_API_KEY="canary-sim-master-key")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "copytrader.cli.main",
        "sim",
        "--platform",
        "botprimex",
        "--port",
        str(port),
        "--seed-demo",
        "--accounts-file",
        str(accounts),
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith("  accounts file:"):
        line = await asyncio.wait_for(proc.stderr.readline(), timeout=20)
        assert line, f"the simulator exited: {lines}"
        lines.append(line.decode().rstrip())
    return proc, lines


async def _stop(proc: asyncio.subprocess.Process) -> bytes:
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
    assert proc.stdout is not None
    return await proc.stdout.read()


async def test_the_botprimex_simulator_process_and_a_deployment_against_it(tmp_path: Path) -> None:
    port = _free_port()
    accounts = tmp_path / "accounts.toml"
    proc, lines = await _start(port, accounts)
    try:
        assert lines[0] == f"simulator (BotPrimeX) listening on http://127.0.0.1:{port}"
        assert lines[1] == "  master account: key canary-sim-master-key"
        assert lines[2].startswith("  account alice (standard, 100/min, binance): key bpx_")
        assert stat.S_IMODE(accounts.stat().st_mode) == 0o600
        policies = tmp_path / "policies"
        policies.mkdir()
        write_policy(
            policies,
            "btc.yaml",
            f"master: {DEMO.btc_dca}\nfollowers:\n  - user: alice\n  - user: bob\n",
        )
        env = subprocess_env(
            COPYTRADER_PLATFORM="botprimex",
            COPYTRADER_API_URL=f"http://127.0.0.1:{port}",
            COPYTRADER_API_KEY="canary-sim-master-key",
            COPYTRADER_ACCOUNTS_FILE=str(accounts),
            COPYTRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'ct.db'}",
            COPYTRADER_POLICY_DIR=str(policies),
        )
        code, out, err = await run_cli("reconcile", "--json", env=env)
        assert code == 0, err
        assert sorted(a["action"] for a in json.loads(out)["actions"]) == [
            "clone",
            "clone",
            "start",
            "start",
        ]
        assert await _stop(proc) == b""  # stdout stays clean
        # Started again with the same file: the same keys, so the deployment still works.
        proc, again = await _start(port, accounts)
        assert again[2:] == lines[2:]
        # (a fresh database: the old one's clones are gone with the old simulator)
        fresh = {**env, "COPYTRADER_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
        code, out, err = await run_cli("plan", "--json", env=fresh)
        assert code == 0, err
        assert [a["action"] for a in json.loads(out)["actions"]] == ["clone", "start"] * 2
        await _stop(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
