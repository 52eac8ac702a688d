"""The template unit ``copytrader@.service``: systemd-analyze accepts its instances, every
per-deployment path is the instance's own, and two instances run side by side on one host.

The side-by-side test plays systemd's part: it expands the unit's ``%i`` and ``%d``, hands the
credentials over as ``LoadCredential=``/``SetCredential=`` would (with the file when there is
one, else the default), reads the instance's env file, and starts ``copytrader run`` in the
unit's working directory, with /etc and /var/lib moved under a temporary folder.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from copytrader.sim.botprimex.server import BpxServer
from copytrader.sim.haas.server import SimServer
from tests.bpx_world import ALICE, BOB, ETH, KEYS, MASTER_KEY, bpx_sim
from tests.daemon.conftest import (
    EXPECTED,
    KEY,
    ROOT,
    Daemon,
    free_port,
    mismatches,
    query,
    wait_for,
)
from tests.reliability.support import subprocess_env
from tests.world import write_policy

TEMPLATE = ROOT / "systemd" / "copytrader@.service"
SINGLE = ROOT / "systemd" / "copytrader.service"
WEBHOOK_TOKEN = "instance-webhook-token-0a1b2c3d4e"
BPX_POLICY = f"master: {ETH}\nfollowers:\n  - user: {ALICE}\n  - user: {BOB}\n"


def _keys(path: Path) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.append((key.strip(), value.strip()))
    return out


@pytest.mark.parametrize("instance", ["haas", "botprimex"])
def test_systemd_analyze_verify_an_instance(tmp_path: Path, instance: str) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    exe = Path(sys.executable).parent / "copytrader"
    if not exe.exists():
        pytest.skip(f"no console script at {exe}")
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "ExecStart=/usr/local/bin/copytrader run" in text
    (tmp_path / "copytrader@.service").write_text(
        text.replace("/usr/local/bin/copytrader", str(exe)), encoding="utf-8")
    proc = subprocess.run([tool, "verify", str(tmp_path / f"copytrader@{instance}.service")],
                          capture_output=True, text=True, timeout=60, check=False)
    complaints = [line for line in (proc.stdout + proc.stderr).splitlines()
                  if "copytrader" in line]
    assert proc.returncode == 0, proc.stderr
    assert complaints == []


def test_every_deployment_path_is_the_instances_own() -> None:
    keys = _keys(TEMPLATE)
    for key, value in keys:
        if "/etc/copytrader" in value or "/var/lib/copytrader" in value:
            assert "%i" in value, f"{key}={value} would be shared by every instance"
    values = dict(keys)
    assert values["StateDirectory"] == "copytrader/%i"
    assert values["ConfigurationDirectory"] == "copytrader/%i"
    assert values["WorkingDirectory"] == "/var/lib/copytrader/%i"
    assert values["EnvironmentFile"] == "/etc/copytrader/%i/copytrader.env"  # required
    env = [v for k, v in keys if k == "Environment"]
    assert "COPYTRADER_DATABASE_URL=sqlite:////var/lib/copytrader/%i/copytrader.db" in env
    assert "COPYTRADER_POLICY_DIR=/etc/copytrader/%i/policies" in env
    loads = {v.split(":", 1)[0]: v.split(":", 1)[1] for k, v in keys if k == "LoadCredential"}
    assert loads == {"copytrader-api-key": "/etc/copytrader/%i/api-key",
                     "copytrader-webhook-token": "/etc/copytrader/%i/webhook-token",
                     "copytrader-accounts": "/etc/copytrader/%i/accounts.toml"}
    # The optional credentials have a default; the API key has none (it must be there).
    defaults = {v.split(":", 1)[0] for k, v in keys if k == "SetCredential"}
    assert defaults == {"copytrader-webhook-token", "copytrader-accounts"}
    assert not any(k.startswith("COPYTRADER_") and "KEY=" in v for k, v in keys)


def test_the_template_keeps_every_promise_of_the_single_unit() -> None:
    per_instance = {"Description", "Environment", "EnvironmentFile", "LoadCredential",
                    "SetCredential", "StateDirectory", "ConfigurationDirectory",
                    "WorkingDirectory"}
    single = {k: v for k, v in _keys(SINGLE) if k not in per_instance}
    template = {k: v for k, v in _keys(TEMPLATE) if k not in per_instance}
    assert template == single


def _instance_env(name: str, root: Path, settings: dict[str, str],
                  secrets: dict[str, str]) -> tuple[dict[str, str], Path]:
    """What systemd would give ``copytrader@NAME`` (paths moved under ``root``), and the
    working directory."""
    etc, var = root / "etc" / "copytrader" / name, root / "var" / "lib" / "copytrader" / name
    (etc / "policies").mkdir(parents=True)
    var.mkdir(parents=True, mode=0o700)
    for file, text in secrets.items():
        (etc / file).write_text(text, encoding="utf-8")
        (etc / file).chmod(0o600)
    (etc / "copytrader.env").write_text(
        "".join(f"{k}={v}\n" for k, v in settings.items()), encoding="utf-8")
    creds = root / "run" / "credentials" / f"copytrader@{name}.service"
    creds.mkdir(parents=True)

    def expand(value: str) -> str:
        value = value.replace("%i", name).replace("%d", str(creds))
        return value.replace("/etc/copytrader", str(root / "etc" / "copytrader")).replace(
            "/var/lib/copytrader", str(root / "var" / "lib" / "copytrader"))

    env: dict[str, str] = {}
    keys = _keys(TEMPLATE)
    for key, value in keys:
        if key == "Environment":
            k, v = expand(value).split("=", 1)
            env[k] = v
        elif key == "LoadCredential":
            cred, source = value.split(":", 1)
            if Path(expand(source)).is_file():
                shutil.copy(expand(source), creds / cred)
    for key, value in keys:
        if key == "SetCredential":
            cred, default = value.split(":", 1)
            if not (creds / cred).exists():
                (creds / cred).write_text(codecs.decode(default, "unicode_escape"))
    for cred in creds.iterdir():
        cred.chmod(0o400)
    env_file = Path(expand(dict(keys)["EnvironmentFile"]))
    for line in env_file.read_text(encoding="utf-8").splitlines():
        k, v = line.split("=", 1)
        env[k] = v  # EnvironmentFile= wins over Environment=
    env["CREDENTIALS_DIRECTORY"] = str(creds)
    return env, Path(expand(dict(keys)["WorkingDirectory"]))


async def test_two_instances_run_side_by_side(sim: SimServer, tmp_path: Path) -> None:
    """copytrader@haas on the HaasOnline simulator and copytrader@botprimex (webhooks on) on
    the BotPrimeX simulator, on one host at once."""
    async with bpx_sim(seed=9, trade_seconds=1.0) as bpx:
        await _side_by_side(sim, bpx, tmp_path)


async def _side_by_side(haas: SimServer, bpx: BpxServer, tmp_path: Path) -> None:
    ports = {"haas": free_port(), "botprimex": free_port()}
    common = {"COPYTRADER_INTERVAL_SECONDS": "2", "COPYTRADER_RATE_LIMIT_PER_MINUTE": "10000"}
    accounts = "".join(f'[accounts.{n}]\napi_key = "{k}"\n\n' for n, k in KEYS.items())
    instances = {
        "haas": ({"COPYTRADER_API_URL": haas.url}, {"api-key": KEY + "\n"}),
        "botprimex": ({"COPYTRADER_API_URL": bpx.url, "COPYTRADER_PLATFORM": "botprimex"},
                      {"api-key": MASTER_KEY + "\n", "accounts.toml": accounts,
                       "webhook-token": WEBHOOK_TOKEN + "\n"}),
    }
    daemons: dict[str, Daemon] = {}
    for name, (settings, secrets) in instances.items():
        env, workdir = _instance_env(name, tmp_path, {
            **settings, **common,
            "COPYTRADER_HTTP_LISTEN": f"127.0.0.1:{ports[name]}",
            "COPYTRADER_LOG_FILE": str(tmp_path / f"{name}.log"),
        }, secrets)
        policies = Path(env["COPYTRADER_POLICY_DIR"])
        if name == "haas":
            for path in sorted((ROOT / "policies").glob("*.yaml")):
                shutil.copy(path, policies / path.name)
        else:
            write_policy(policies, "eth.yaml", BPX_POLICY)
        env = {**subprocess_env(), **env, "PYTHONPATH": str(ROOT)}
        daemons[name] = await Daemon(env, workdir).start()
        daemons[name].log = tmp_path / f"{name}.log"
    hook = "/webhooks/botprimex/" + WEBHOOK_TOKEN
    for account in bpx.state.accounts.values():
        account.webhook_url = f"http://127.0.0.1:{ports['botprimex']}{hook}"
    try:
        for name, d in daemons.items():
            async def healthy(d: Daemon = d) -> bool:
                got = await d.get_or_none("/healthz")
                return got is not None and got[0] == 200 and json.loads(got[1])["status"] == "ok"

            await wait_for(healthy, f"instance {name} healthy", within=60)
        # Each has its own database and lease: both lead, neither waits for the other.
        for name, d in daemons.items():
            status, body = await d.get("/healthz")
            assert status == 200 and json.loads(body)["role"] == "leader", (name, body)
            assert d.db == tmp_path / "var" / "lib" / "copytrader" / name / "copytrader.db"
            assert d.db.exists() and d.runs()
        await wait_for(lambda: not mismatches(haas.state, EXPECTED), "HaasOnline converged")
        haas_clones = [b for u in {f for _, f in EXPECTED} for b in haas.state.bots_of(u)]
        assert len(haas_clones) == len(EXPECTED), "a HaasOnline follower cloned twice"
        await wait_for(lambda: all(len(bpx.state.bots_of(a)) == 1 for a in (ALICE, BOB)),
                       "BotPrimeX converged")
        # The BotPrimeX instance takes the platform's webhooks (its trades land); the
        # HaasOnline one has no such route.
        await wait_for(lambda: query(daemons["botprimex"].db, "SELECT 1 FROM trades"),
                       "a trade recorded from the platform's webhooks", within=60)
        assert (await daemons["botprimex"].get(hook))[0] == 405  # the route (POST only)
        assert (await daemons["haas"].get(hook))[0] == 404
    finally:
        codes = await asyncio.gather(*(d.stop() for d in daemons.values()))
    assert [code for code, _ in codes] == [0, 0]
