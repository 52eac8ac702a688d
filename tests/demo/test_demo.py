"""``copytrader demo --headless`` as a subprocess: exits 0, converges, fans out a master edit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GRID = "6dafad4e364449c9906296aab8eff2f7"


async def demo(
    folder: Path, seconds: float, *extra: str
) -> tuple[int, list[dict[str, object]], str]:
    # No COPYTRADER_* at all: the demo needs no configuration.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYTRADER_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "copytrader.cli.main", "demo", "--headless",
        "--seconds", str(seconds), "--dir", str(folder), *extra, env=env, cwd=folder.parent,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), seconds + 30)
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise
    assert proc.returncode is not None
    lines = [json.loads(line) for line in out.decode().splitlines()]
    return proc.returncode, lines, err.decode()


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return list(conn.execute(sql).fetchall())


async def test_headless_demo_converges_and_fans_out_the_master_edit(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    code, lines, err = await demo(folder, 8)
    assert code == 0, err[-3000:]
    summary, *masters = lines
    assert summary["demo"] == "summary" and summary["master_edit_sent"] is True
    assert summary["actions_failed"] == 0 and int(summary["passes"]) >= 2
    assert len(masters) == 3
    for m in masters:
        assert m["followers"] == m["clones"] == m["in_sync"], m
        assert m["failed"] == 0 and m["drifted"] == 0
    assert sorted(p.name for p in (folder / "policies").iterdir()) == [
        "btc-dca.yaml", "eth-futures-grid.yaml", "eth-grid.yaml"]
    db = folder / "copytrader.db"
    assert not rows(db, "SELECT run_id FROM runs WHERE state = 'running'")
    edits = rows(db, "SELECT follower, changes FROM audit_events WHERE action = 'edit' "
                 f"AND master = '{GRID}'")
    # stopExit is the master's own value for every follower: the edit reaches all three;
    # stopValue is overridden by the policy, so the followers keep theirs.
    assert sorted(f for f, c in edits if "stopExit" in json.loads(c)) == sorted({
        "f873b314-f165-45a0-b658-d15ff37d529a", "28f19b46-81df-481c-9872-c215626f166e",
        "98aaa021-05c9-4cb1-ae7b-aaa128b42530"})
    assert not [c for _, c in edits if "stopValue" in json.loads(c)]
    assert '"event": "demo running"' in err  # log lines went to stderr

    # Again in the same folder: a fresh simulator, so a fresh database; converges again.
    code, lines, err = await demo(folder, 4)
    assert code == 0, err[-3000:]
    assert all(m["followers"] == m["clones"] == m["in_sync"] for m in lines[1:]), lines


async def test_the_demo_keeps_an_edited_policy(tmp_path: Path) -> None:
    from importlib import resources

    folder = tmp_path / "demo"
    (folder / "policies").mkdir(parents=True)
    example = resources.files("copytrader.demo_policies").joinpath("eth-grid.yaml").read_text()
    assert "stopValue: 3200" in example
    edited = example.replace("stopValue: 3200", "stopValue: 3333")
    (folder / "policies" / "eth-grid.yaml").write_text(edited)

    code, _, err = await demo(folder, 4)
    assert code == 0, err[-3000:]
    target = folder / "policies" / "eth-grid.yaml"
    assert (
        f"copytrader demo: keeping your edited {target} (--reset-policies restores the example)"
        in err.splitlines()
    )
    assert target.read_text() == edited
    assert sorted(p.name for p in (folder / "policies").iterdir()) == [
        "btc-dca.yaml", "eth-futures-grid.yaml", "eth-grid.yaml"]  # the missing ones written
    clones = rows(folder / "copytrader.db", "SELECT changes FROM audit_events WHERE action = "
                  f"'clone' AND master = '{GRID}'")
    assert any(json.loads(c)["stopValue"] == [None, 3333] for (c,) in clones), clones


def test_reset_policies_restores_the_examples_and_says_so(tmp_path: Path) -> None:
    from copytrader.cli import demo as demo_mod

    folder = tmp_path / "policies"
    assert demo_mod.write_policies(folder) == []
    (folder / "btc-dca.yaml").write_text("# mine\n")
    assert demo_mod.write_policies(folder) == [
        f"keeping your edited {folder / 'btc-dca.yaml'} (--reset-policies restores the example)"
    ]
    assert (folder / "btc-dca.yaml").read_text() == "# mine\n"
    assert demo_mod.write_policies(folder, reset=True) == [
        f"replaced your edited {folder / 'btc-dca.yaml'} with the example (--reset-policies)"
    ]
    assert (folder / "btc-dca.yaml").read_text() != "# mine\n"
    assert demo_mod.write_policies(folder) == []
    # another demo's examples: the unedited ones go, an edited one is kept and named
    bpx = "copytrader.demo_policies.botprimex"
    (folder / "mine.yaml").write_text("# a file of my own\n")
    assert demo_mod.write_policies(folder, bpx) == [
        f"keeping {folder / 'mine.yaml'}: not one of this demo's examples, it is applied too "
        "(--reset-policies removes it)"
    ]
    examples = demo_mod._examples(bpx)
    assert {p.name for p in folder.iterdir()} == {*examples, "mine.yaml"}
    assert all((folder / name).read_text() == text for name, text in examples.items())


async def test_botprimex_demo_converges_every_account_and_fans_out_the_master_edit(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "demo"
    code, lines, err = await demo(folder, 9, "--platform", "botprimex")
    assert code == 0, err[-3000:]
    summary, *masters = lines
    assert summary["master_edit_sent"] is True and summary["actions_failed"] == 0
    # The simulator delivered its events to the daemon's webhook route: the clones'
    # bot.started at least, and the masters' closed trades were recorded.
    assert summary["webhook_events"] > 0 and summary["trades_recorded"] > 0, summary
    assert rows(folder / "copytrader.db", "SELECT COUNT(*) FROM trades") == [
        (summary["trades_recorded"],)]
    assert sorted(m["name"] for m in masters) == ["BTC DCA", "ETH grid", "SOL signal"]
    for m in masters:
        assert m["followers"] == m["clones"] == m["in_sync"], m
    assert sorted(p.name for p in (folder / "policies").iterdir()) == [
        "btc-dca.yaml", "eth-grid.yaml", "sol-signal.yaml"]
    accounts = folder / "accounts.toml"
    assert accounts.stat().st_mode & 0o777 == 0o600
    keys = [line.split('"')[1] for line in accounts.read_text().splitlines() if "api_key" in line]
    assert len(keys) == 4 and not [k for k in keys if k in err or k in json.dumps(lines)]
    edits = rows(folder / "copytrader.db", "SELECT follower, changes FROM audit_events WHERE "
                 "action = 'edit' AND outcome = 'ok' AND master = 'bot_8a2c4e6f1b3d5a79'")
    assert sorted(f for f, c in edits if "max_open_trades" in json.loads(c)) == [
        "alice", "bob", "carol"]
    # the HaasOnline demo in the same folder afterwards: its own policies only
    code, lines, err = await demo(folder, 4)
    assert code == 0, err[-3000:]
    assert sorted(p.name for p in (folder / "policies").iterdir()) == [
        "btc-dca.yaml", "eth-futures-grid.yaml", "eth-grid.yaml"]


async def test_the_live_view_ends_with_commands_to_copy_whole(tmp_path: Path) -> None:
    """The demo without --headless (the README's first command), stdout a pipe: the live
    view, then a summary whose commands are each one whole line, never wrapped at 80
    columns, naming the copytrader that ran; the dashboard's URL on stderr as it starts."""
    folder = tmp_path / "a-rather-long-folder-name-so-that-the-line-is-wider-than-80" / "demo"
    folder.parent.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYTRADER_")}
    env.update(PYTHONPATH=str(ROOT), COLUMNS="80")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "copytrader.cli.main", "demo", "--seconds", "5",
        "--dir", str(folder), env=env, cwd=folder.parent, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()[-3000:]
    assert err.decode().startswith("copytrader demo: dashboard at http://127.0.0.1:")
    lines = out.decode().splitlines()
    url = f"COPYTRADER_DATABASE_URL=sqlite:///{folder / 'copytrader.db'}"
    commands = [x.strip() for x in lines if x.strip().startswith(url)]  # whole lines
    assert commands == [f"{url} copytrader audit", f"{url} copytrader web"], lines[-6:]
