"""``copytrader demo`` prints its dashboard's URL on stderr as it starts, and serves there the
masters converging (on a free loopback port, or on COPYTRADER_HTTP_LISTEN when set)."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r"copytrader demo: dashboard at (http://127\.0\.0\.1:\d+)/")


async def start(folder: Path, seconds: float, **env: str) -> asyncio.subprocess.Process:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COPYTRADER_")}
    clean.update(PYTHONPATH=str(ROOT), **env)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "copytrader.cli.main", "demo", "--headless", "--seconds",
        str(seconds), "--dir", str(folder), env=clean, cwd=folder.parent,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)


async def dashboard_url(proc: asyncio.subprocess.Process) -> str:
    assert proc.stderr is not None
    while True:
        line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
        assert line, "the demo ended without printing its dashboard's URL"
        found = URL.search(line)
        if found:
            return found.group(1)


async def finish(proc: asyncio.subprocess.Process) -> int:
    assert proc.stderr is not None
    await asyncio.wait_for(proc.stderr.read(), 60)  # drain, or the demo blocks on a full pipe
    return await asyncio.wait_for(proc.wait(), 60)


async def test_the_demo_serves_its_dashboard_at_the_url_it_prints(tmp_path: Path) -> None:
    proc = await start(tmp_path / "demo", 12)
    try:
        url = await dashboard_url(proc)
        drain = asyncio.ensure_future(finish(proc))
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as session:
            while True:
                async with session.get(url + "/api/masters") as resp:
                    doc = await resp.json()
                masters = doc["masters"]
                if len(masters) == 3 and all(m["in_sync"] == m["followers"] for m in masters):
                    break
                assert time.monotonic() < deadline, doc
                await asyncio.sleep(0.5)
            async with session.get(url + "/") as resp:
                page = await resp.text()
                assert resp.status == 200 and "Spot Grid Bot" in page
                assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert await drain == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_the_demo_listens_on_copytrader_http_listen_when_set(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await start(tmp_path / "demo", 2, COPYTRADER_HTTP_LISTEN=f"127.0.0.1:{port}")
    try:
        assert await dashboard_url(proc) == f"http://127.0.0.1:{port}"
        assert await finish(proc) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
