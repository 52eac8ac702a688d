"""The README's nginx configuration in front of the webhook route, run for real: events pass,
a large body stops at nginx, nothing else of the daemon is public, and neither nginx's
access log nor its error log holds the token. Skips where nginx is not installed (`.ci/run`
installs it when it can)."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from tests.daemon.conftest import ROOT, free_port, wait_for
from tests.daemon.test_webhooks import MASTER, TOKEN, Server, event, open_server, trade

__all__ = ["open_server"]  # the fixture, used below


def _readme_config() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```nginx\n(.*?)```", text, flags=re.S)
              if "location /webhooks/botprimex/" in b]
    assert len(blocks) == 1, "the README should show one nginx configuration for webhooks"
    return blocks[0]


def _local(config: str, folder: Path, listen: int, upstream: int) -> str:
    """The README's server block on plain HTTP on loopback, logging under ``folder``."""
    config = re.sub(r"listen 443 ssl;", f"listen 127.0.0.1:{listen};", config)
    config = re.sub(r"\n\s*ssl_certificate[^\n]*", "", config)
    config = config.replace("/var/log/nginx/", f"{folder}/")
    config = config.replace("proxy_pass http://127.0.0.1:8737;",
                            f"proxy_pass http://127.0.0.1:{upstream};")
    temp = "".join(f"{name}_temp_path {folder}/{name};\n" for name in
                   ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"pid {folder}/nginx.pid;\nerror_log {folder}/main-error.log;\nevents {{}}\n"
            f"http {{\naccess_log {folder}/main-access.log;\n{temp}{config}\n}}\n")


async def test_the_readme_proxy_passes_events_only_and_logs_no_token(
    open_server: Callable[..., Awaitable[Server]], tmp_path: Path,
) -> None:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if nginx is None:
        pytest.skip("nginx is not installed")
    server = await open_server()
    folder = tmp_path / "nginx"
    folder.mkdir()
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(_local(_readme_config(), folder, port, server.endpoint.port))
    check = await asyncio.create_subprocess_exec(
        nginx, "-t", "-c", str(conf), "-p", str(folder),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await check.communicate()
    assert check.returncode == 0, err.decode()
    proc = await asyncio.create_subprocess_exec(
        nginx, "-c", str(conf), "-p", str(folder), "-g", "daemon off;",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        async def up() -> bool:
            try:
                async with aiohttp.ClientSession() as s, s.get(base + "/") as r:
                    return r.status == 404
            except aiohttp.ClientError:
                return False

        await wait_for(up, "nginx listening")
        hook = f"{base}/webhooks/botprimex/{TOKEN}"
        async with aiohttp.ClientSession() as s:
            async def send(method: str, url: str, body: bytes | None = None) -> int:
                async with s.request(method, url, data=body) as r:
                    await r.read()
                    return r.status

            assert await send("POST", hook, event("bot.started", MASTER)) == 202
            assert await send("POST", hook, trade(MASTER, "t1", 1.0)) == 202
            assert await send("POST", hook, b"x" * 70_000) == 413  # nginx's own answer
            assert await send("POST", hook[:-1] + "x", b"{}") == 404
            assert await send("GET", hook) == 403
            for path in ("/healthz", "/metrics", "/"):
                assert await send("GET", base + path) == 404
        await wait_for(lambda: server.inbox.handled == 2, "both events handled")
        # The 70 KB body never reached the daemon; the events did.
        assert server.counter("copytrader_webhook_events_rejected_total", reason="too_large") == 0
        assert server.counter("copytrader_webhook_events_received_total") == 3
    finally:
        proc.terminate()
        await proc.wait()
    logs = sorted(p for p in folder.iterdir() if p.suffix == ".log")
    assert any(p.name == "webhooks.log" and p.stat().st_size for p in logs)
    for log in logs:
        assert TOKEN not in log.read_text(errors="replace"), f"the token is in {log.name}"
