"""``python -m copytrader.sim`` runs a real simulator process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import aiohttp

from copytrader.sim.haas.seed import DEMO


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_module_runs_a_seeded_simulator_and_stops_on_sigterm() -> None:
    port = _free_port()
    env = dict(os.environ, COPYTRADER_API_KEY="proc-key")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "copytrader.sim", "--port", str(port), "--seed-demo",
        stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
    )
    try:
        assert proc.stderr is not None
        line = await asyncio.wait_for(proc.stderr.readline(), timeout=20)
        assert line.decode().strip() == f"simulator listening on http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(headers={"X-API-Key": "proc-key"}) as session, \
                session.post(f"http://127.0.0.1:{port}/bots/list", json={}) as resp:
            assert resp.status == 200
            envelope = await resp.json()
        assert envelope["isSuccess"] is True
        assert {b["botId"] for b in envelope["data"]["items"]} == {
            DEMO.spot_grid_master, DEMO.futures_grid_master, DEMO.spot_dca_master}
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
        assert proc.stdout is not None
        assert await proc.stdout.read() == b""  # stdout stays clean
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_module_reports_a_taken_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "copytrader.sim", "--port", str(port),
            stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        )
        _, err = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode == 2
    assert b"cannot listen" in err
