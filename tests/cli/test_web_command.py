"""``copytrader web`` as a subprocess: serves the dashboard from the database alone, prints its
URL on stderr (nothing on stdout), exits 0 on SIGTERM; a bad or busy address is exit 2 with
one line naming where it came from."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "copytrader.cli.main", "web"]


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYTRADER_")}
    env.update(PYTHONPATH=str(ROOT), COPYTRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'ct.db'}",
               COPYTRADER_LOG_FORMAT="json", **extra)
    return env


async def run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(*CLI, *args, env=env,
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_serves_from_the_database_alone_until_sigterm(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        *CLI, "--listen", "127.0.0.1:0", env=env_for(tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stderr is not None and proc.stdout is not None
        line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
        assert line.startswith("copytrader web: dashboard at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].strip().rstrip("/")
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/") as resp:
                page = await resp.text()
                assert resp.status == 200 and "No pass has recorded a master yet" in page
            async with session.get(url + "/healthz") as resp:
                assert (await resp.json()) == {"role": "dashboard", "status": "ok"}
            async with session.get(url + "/metrics") as resp:
                assert resp.status == 404  # no passes here, so no metrics
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0 and out == b""
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_bad_or_busy_address_is_exit_2_naming_it(tmp_path: Path) -> None:
    code, out, err = await run("--listen", "nowhere", env=env_for(tmp_path))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "--listen" in err and "HOST:PORT" in err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = await run("--listen", f"127.0.0.1:{port}", env=env_for(tmp_path))
        assert code == 2 and "--listen: cannot listen on" in err, err
        code, _, err = await run(env=env_for(tmp_path,
                                             COPYTRADER_HTTP_LISTEN=f"127.0.0.1:{port}"))
        assert code == 2 and "COPYTRADER_HTTP_LISTEN: cannot listen on" in err, err
    code, _, err = await run("--listen", "0.0.0.0:0", env=env_for(tmp_path))
    assert code == 2 and "COPYTRADER_HTTP_TOKEN" in err and "--listen" in err
