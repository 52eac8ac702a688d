"""Input checks as a user meets them: real ``copytrader`` subprocesses, each bad input exit 2
with one line on stderr that names the problem in the right words (a usage error is not a
"configuration error"), and the database default in the XDG state folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from copytrader.core.audit_actions import ACTIONS
from tests.reliability.support import run_cli, subprocess_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No COPYTRADER_* from outside, a home of its own, a database in a folder that exists."""
    (tmp_path / "home").mkdir()
    return subprocess_env(
        HOME=str(tmp_path / "home"),
        COPYTRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'ct.db'}",
    )


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# (arguments, the one stderr line expected, exactly)
USAGE: list[tuple[list[str], str]] = [
    (
        ["audit", "--action", "edits"],
        "copytrader audit: --action: unknown action 'edits'; did you mean 'edit'? (known: "
        + ", ".join(ACTIONS)
        + "; copytrader audit --help says what each means)",
    ),
    (
        ["audit", "--action", "frobnicate"],
        "copytrader audit: --action: unknown action 'frobnicate' (known: "
        + ", ".join(ACTIONS)
        + "; copytrader audit --help says what each means)",
    ),
    (
        ["audit", "--since", "yesterday-ish"],
        "copytrader audit: --since: invalid time 'yesterday-ish': expected ISO 8601 "
        "(2025-05-01T12:00:00Z) or a span like 90m, 12h, 7d",
    ),
    (
        ["audit", "--since", "2026-01-02", "--until", "2026-01-01"],
        "copytrader audit: --since 2026-01-02 (2026-01-02 00:00:00 UTC) is after --until "
        "2026-01-01 (2026-01-01 00:00:00 UTC): nothing can match; did you swap them?",
    ),
    (
        ["history", "--since", "2026-01-02T00:00:00Z", "--until", "2026-01-01T23:00:00Z"],
        "copytrader history: --since 2026-01-02T00:00:00Z (2026-01-02 00:00:00 UTC) is after "
        "--until 2026-01-01T23:00:00Z (2026-01-01 23:00:00 UTC): nothing can match; did you "
        "swap them?",
    ),
    (
        ["history", "--bucket", "fortnightly"],
        "copytrader history: --bucket: invalid span 'fortnightly': expected a positive number "
        "and a unit s, m, h, d or w (e.g. 90m, 12h, 7d)",
    ),
    (
        ["history", "--bucket", "0h"],
        "copytrader history: --bucket: invalid span '0h': expected a positive number and a "
        "unit s, m, h, d or w (e.g. 90m, 12h, 7d)",
    ),
    (
        ["audit", "--limit", "0"],
        "copytrader audit: argument --limit: must be at least 1, got 0 (see copytrader audit "
        "--help)",
    ),
    (
        ["audit", "--limit", "ten"],
        "copytrader audit: argument --limit: expected a whole number, got 'ten' (see copytrader "
        "audit --help)",
    ),
    (
        ["demo", "--seconds", "-1"],
        "copytrader demo: argument --seconds: must be 0 or more seconds, got -1 (see copytrader "
        "demo --help)",
    ),
    (
        ["reconcile", "--wait", "-5"],
        "copytrader reconcile: argument --wait: must be 0 or more seconds, got -5 (see "
        "copytrader reconcile --help)",
    ),
    (
        ["statsu"],
        "copytrader: argument COMMAND: unknown 'statsu'; did you mean 'status'? (one of policy, "
        "plan, reconcile, drift, explain, follower, adopt, resume, run, status, audit, history, "
        "web, db, sim, demo) (see copytrader --help)",
    ),
    (
        ["history", "--json", "--csv"],
        "copytrader history: argument --csv: not allowed with argument --json (see copytrader "
        "history --help)",
    ),
    (
        ["status", "--colour"],
        "copytrader: unrecognized arguments: --colour (see copytrader --help)",
    ),
]


@pytest.mark.parametrize(("args", "line"), USAGE, ids=[" ".join(a) for a, _ in USAGE])
async def test_each_bad_input_is_exit_2_with_one_line_naming_it(
    env: dict[str, str], args: list[str], line: str
) -> None:
    code, out, err = await run_cli(*args, env=env)
    assert (code, out) == (2, "")
    assert one_line(err) == line
    assert "configuration error" not in err and "Traceback" not in err


async def test_global_options_work_before_and_after_the_command(
    env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "ct.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "from-file.db"}"\n')
    del env["COPYTRADER_DATABASE_URL"]
    for args in (["--config", str(config), "status"], ["status", "--config", str(config)]):
        code, out, err = await run_cli(*args, env=env)
        assert code == 0, err
        assert out.strip() == "no masters recorded yet (run a reconcile pass first)"
    assert (tmp_path / "from-file.db").exists()
    code, _, err = await run_cli("plan", "--config", str(tmp_path / "x.toml"), env=env)
    assert code == 2
    assert one_line(err) == (
        f"copytrader plan: configuration error: COPYTRADER_CONFIG: file not found: "
        f"{tmp_path / 'x.toml'}"
    )


async def test_a_bad_variable_is_a_configuration_error(env: dict[str, str]) -> None:
    code, out, err = await run_cli("status", env={**env, "COPYTRADER_DATABASE_URL": "mysql://x"})
    assert (code, out) == (2, "")
    assert one_line(err) == (
        "copytrader status: configuration error: COPYTRADER_DATABASE_URL: expected "
        "sqlite:///PATH or postgresql://..., got a URL with scheme 'mysql'"
    )


async def test_a_sqlite_path_whose_folder_is_missing_is_refused_naming_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "typo" / "ct.db"
    code, out, err = await run_cli("status", env={**env, "COPYTRADER_DATABASE_URL": f"sqlite:///{db}"})
    assert (code, out) == (2, "")
    assert one_line(err) == (
        f"copytrader status: configuration error: COPYTRADER_DATABASE_URL: the folder of the "
        f"database file, {db.parent}, does not exist; create it first (copytrader creates "
        "only its default folder)"
    )
    assert not db.parent.exists()


async def test_the_default_database_is_in_the_xdg_state_folder_made_0700(
    env: dict[str, str], tmp_path: Path
) -> None:
    del env["COPYTRADER_DATABASE_URL"]
    work = tmp_path / "elsewhere"
    work.mkdir()
    code, _, err = await run_cli("status", env=env, cwd=work)
    assert code == 0, err
    state = tmp_path / "home" / ".local" / "state"
    db = state / "copytrader" / "copytrader.db"
    assert db.exists() and list(work.iterdir()) == []  # nothing in the current folder
    for folder in (tmp_path / "home" / ".local", state, db.parent):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    xdg = tmp_path / "xdg"
    code, _, err = await run_cli("status", env={**env, "XDG_STATE_HOME": str(xdg)}, cwd=work)
    assert code == 0, err
    assert (xdg / "copytrader" / "copytrader.db").exists()
