"""Garbage in every configuration variable: exit 2 and one line naming the variable.

Real subprocesses of ``copytrader plan`` / ``run``; the platform URL points at a closed
port, and a configuration error must be found before anything is contacted.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.reliability.support import CLI, subprocess_env

BASE = {"COPYTRADER_API_URL": "http://127.0.0.1:9", "COPYTRADER_API_KEY": "canary-cfg-key-1"}
NOTIFY_URL = "canary-notify-url-Tq3"
SECRET = "canary-notify-secret-Lp09x"

# (id, variable named in the message, environment changes; None removes the variable)
CASES: list[tuple[str, str, dict[str, str | None]]] = [
    (
        "rate limit not a number",
        "COPYTRADER_RATE_LIMIT_PER_MINUTE",
        {"COPYTRADER_RATE_LIMIT_PER_MINUTE": "abc"},
    ),
    (
        "rate limit zero",
        "COPYTRADER_RATE_LIMIT_PER_MINUTE",
        {"COPYTRADER_RATE_LIMIT_PER_MINUTE": "0"},
    ),
    (
        "rate limit negative",
        "COPYTRADER_RATE_LIMIT_PER_MINUTE",
        {"COPYTRADER_RATE_LIMIT_PER_MINUTE": "-5"},
    ),
    ("concurrency zero", "COPYTRADER_CONCURRENCY", {"COPYTRADER_CONCURRENCY": "0"}),
    ("interval negative", "COPYTRADER_INTERVAL_SECONDS", {"COPYTRADER_INTERVAL_SECONDS": "-1"}),
    ("interval zero", "COPYTRADER_INTERVAL_SECONDS", {"COPYTRADER_INTERVAL_SECONDS": "0"}),
    ("interval nan", "COPYTRADER_INTERVAL_SECONDS", {"COPYTRADER_INTERVAL_SECONDS": "nan"}),
    ("interval inf", "COPYTRADER_INTERVAL_SECONDS", {"COPYTRADER_INTERVAL_SECONDS": "inf"}),
    ("database mysql", "COPYTRADER_DATABASE_URL", {"COPYTRADER_DATABASE_URL": "mysql://"}),
    ("database no scheme", "COPYTRADER_DATABASE_URL", {"COPYTRADER_DATABASE_URL": "copytrader.db"}),
    ("listen no port", "COPYTRADER_HTTP_LISTEN", {"COPYTRADER_HTTP_LISTEN": "nope"}),
    (
        "listen port too big",
        "COPYTRADER_HTTP_LISTEN",
        {"COPYTRADER_HTTP_LISTEN": "127.0.0.1:99999"},
    ),
    ("api url ftp", "COPYTRADER_API_URL", {"COPYTRADER_API_URL": "ftp://x"}),
    ("api url missing", "COPYTRADER_API_URL", {"COPYTRADER_API_URL": None}),
    ("api key missing", "COPYTRADER_API_KEY", {"COPYTRADER_API_KEY": None}),
    ("log format xml", "COPYTRADER_LOG_FORMAT", {"COPYTRADER_LOG_FORMAT": "xml"}),
    ("timeout zero", "COPYTRADER_TIMEOUT_SECONDS", {"COPYTRADER_TIMEOUT_SECONDS": "0"}),
    # notifications: the URLs and the secret are secrets, never echoed
    (
        "notify events unknown",
        "COPYTRADER_NOTIFY_EVENTS",
        {"COPYTRADER_NOTIFY_EVENTS": "risk_stop,risk_stopped"},
    ),
    ("notify url no scheme", "COPYTRADER_NOTIFY_URLS", {"COPYTRADER_NOTIFY_URLS": NOTIFY_URL}),
    (
        "webhook url ftp",
        "COPYTRADER_WEBHOOK_URL",
        {"COPYTRADER_WEBHOOK_URL": "ftp://" + NOTIFY_URL, "COPYTRADER_WEBHOOK_SECRET": SECRET},
    ),
    (
        "webhook without secret",
        "COPYTRADER_WEBHOOK_SECRET",
        {"COPYTRADER_WEBHOOK_URL": "http://127.0.0.1:9/" + NOTIFY_URL},
    ),
    (
        "webhook secret too short",
        "COPYTRADER_WEBHOOK_SECRET",
        {"COPYTRADER_WEBHOOK_URL": "http://127.0.0.1:9/h", "COPYTRADER_WEBHOOK_SECRET": "canary-s"},
    ),
    ("secret without webhook", "COPYTRADER_WEBHOOK_URL", {"COPYTRADER_WEBHOOK_SECRET": SECRET}),
    ("webhook token short", "COPYTRADER_WEBHOOK_TOKEN", {"COPYTRADER_WEBHOOK_TOKEN": "abc"}),
    (
        "webhook token on haas",
        "COPYTRADER_WEBHOOK_TOKEN",
        {"COPYTRADER_WEBHOOK_TOKEN": "0123456789abcdef-ok"},
    ),
    (
        "webhook token not a path segment",
        "COPYTRADER_WEBHOOK_TOKEN",
        {"COPYTRADER_WEBHOOK_TOKEN": "0123456789/abcdef?x"},
    ),
]


def _run(
    args: list[str], changes: dict[str, str | None], cwd: Path
) -> subprocess.CompletedProcess[str]:
    env = subprocess_env(**BASE)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [*CLI, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _one_line_naming(proc: subprocess.CompletedProcess[str], variable: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert variable in lines[0], lines[0]
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert "canary-cfg-key-1" not in proc.stderr
    assert NOTIFY_URL not in proc.stderr and SECRET not in proc.stderr
    assert "canary-s" not in proc.stderr


def _file_cases(tmp_path: Path) -> list[tuple[str, str, dict[str, str | None]]]:
    """Cases that need a file: key files that cannot be used, config files that are bad."""
    folder = tmp_path / "key-folder"
    folder.mkdir()
    latin = tmp_path / "key-latin1"
    latin.write_bytes(b"\xff\xfe\x00canary")
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text('api_url = "http://127.0.0.1:9"\nrate_limit_per_minute = = 3\n')
    bad_value = tmp_path / "bad-value.toml"
    bad_value.write_text('interval_seconds = "often"\n')
    typo = tmp_path / "typo.toml"
    typo.write_text('api_url = "http://127.0.0.1:9"\nintervall_seconds = 5\n')
    no_key: dict[str, str | None] = {"COPYTRADER_API_KEY": None}
    return [
        (
            "key file a folder",
            "COPYTRADER_API_KEY_FILE",
            {**no_key, "COPYTRADER_API_KEY_FILE": str(folder)},
        ),
        (
            "key file missing",
            "COPYTRADER_API_KEY_FILE",
            {**no_key, "COPYTRADER_API_KEY_FILE": str(tmp_path / "absent")},
        ),
        (
            "key file not UTF-8",
            "COPYTRADER_API_KEY_FILE",
            {**no_key, "COPYTRADER_API_KEY_FILE": str(latin)},
        ),
        ("config bad TOML", "COPYTRADER_CONFIG", {"COPYTRADER_CONFIG": str(bad_toml)}),
        (
            "config missing",
            "COPYTRADER_CONFIG",
            {"COPYTRADER_CONFIG": str(tmp_path / "absent.toml")},
        ),
        ("config bad value", "COPYTRADER_INTERVAL_SECONDS", {"COPYTRADER_CONFIG": str(bad_value)}),
        ("config unknown key", "intervall_seconds", {"COPYTRADER_CONFIG": str(typo)}),
    ]


def test_every_bad_variable_exits_2_naming_it(tmp_path: Path) -> None:
    """Each case through ``copytrader plan``; the daemon's own (``run``) for the interval."""

    def one(case: tuple[str, str, dict[str, str | None]]) -> str | None:
        name, variable, changes = case
        command = ["run"] if name.startswith("daemon") else ["plan"]
        try:
            _one_line_naming(_run(command, changes, tmp_path), variable)
        except AssertionError as exc:
            return f"{name}: {exc}"
        return None

    daemon: list[tuple[str, str, dict[str, str | None]]] = [
        (
            "daemon interval negative",
            "COPYTRADER_INTERVAL_SECONDS",
            {"COPYTRADER_INTERVAL_SECONDS": "-1"},
        ),
        (
            "daemon apprise url it does not know",
            "COPYTRADER_NOTIFY_URLS",
            {"COPYTRADER_NOTIFY_URLS": "json://127.0.0.1:9/x,nosuch://" + NOTIFY_URL},
        ),
        (
            "daemon webhook token file missing",
            "COPYTRADER_WEBHOOK_TOKEN_FILE",
            {"COPYTRADER_WEBHOOK_TOKEN_FILE": str(tmp_path / "absent-token")},
        ),
    ]
    # One subprocess per case, three at a time: the CLI's start-up dominates.
    with ThreadPoolExecutor(max_workers=3) as pool:
        found = pool.map(one, [*CASES, *_file_cases(tmp_path), *daemon])
        failures = [f for f in found if f is not None]
    assert failures == []


def test_a_missing_policy_folder_is_exit_2_for_every_command_that_reads_it(
    tmp_path: Path,
) -> None:
    """CONTRACT: exit 2 is for configuration errors. ``reconcile`` and ``run`` refused a
    missing COPYTRADER_POLICY_DIR only as an aborted pass (exit 1, or a daemon aborting every
    pass); now they say so at once, as ``policy check`` and ``plan`` do."""
    missing = {
        "COPYTRADER_POLICY_DIR": str(tmp_path / "no-such-folder"),
        "COPYTRADER_DATABASE_URL": f"sqlite:///{tmp_path / 'ct.db'}",
        "COPYTRADER_HTTP_LISTEN": "127.0.0.1:0",
    }
    commands = [
        ["policy", "check"], ["plan"], ["drift"], ["reconcile"], ["reconcile", "--json"], ["run"]
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:
        procs = list(pool.map(lambda args: _run(args, missing, tmp_path), commands))
    for args, proc in zip(commands, procs, strict=True):
        _one_line_naming(proc, "COPYTRADER_POLICY_DIR")
        assert "no-such-folder does not exist" in proc.stderr, (args, proc.stderr)


# -- BotPrimeX: the accounts file --------------------------------------------------------

BPX_KEY = "canary-bpx-cfg-master-5"
FOLLOWER_KEY = "canary-bpx-cfg-follower-9"
GOOD = f'[accounts.alice]\napi_key = "{FOLLOWER_KEY}"\n'
# (id, file content (None: no file), mode, what the message must say)
ACCOUNTS_FILES: list[tuple[str, str | None, int, str]] = [
    ("group-readable", GOOD, 0o640, "chmod 600"),
    ("world-readable", GOOD, 0o644, "mode 0644"),
    ("others may write", GOOD, 0o602, "mode 0602"),
    ("bad TOML", f'[accounts.alice]\napi_key = "{FOLLOWER_KEY}\n', 0o600, "invalid TOML"),
    ("unknown top key", GOOD + "[other]\nx = 1\n", 0o600, "unknown top-level key"),
    ("bad name", f'[accounts."al ice"]\napi_key = "{FOLLOWER_KEY}"\n', 0o600, "account name"),
    ("empty key", '[accounts.alice]\napi_key = ""\n', 0o600, "non-empty string"),
    ("key not a string", "[accounts.alice]\napi_key = 7\n", 0o600, "non-empty string"),
    ("unknown field", GOOD + 'secret = "x"\n', 0o600, "unknown key(s) secret"),
    (
        "same key twice",
        GOOD + f'[accounts.bob]\napi_key = "{FOLLOWER_KEY}"\n',
        0o600,
        "same api_key",
    ),
    (
        "the master account's key",
        f'[accounts.boss]\napi_key = "{BPX_KEY}"\n',
        0o600,
        "master account",
    ),
    ("missing", None, 0o600, "file not found"),
]


def test_every_bad_accounts_file_exits_2_naming_it(tmp_path: Path) -> None:
    """Every command that needs the platform checks the accounts file first: exit 2, one
    line naming the variable, the file and the problem, no key shown."""
    commands = [["plan"], ["reconcile"], ["policy", "check"], ["drift"], ["run"]]
    base: dict[str, str | None] = {
        "COPYTRADER_PLATFORM": "botprimex",
        "COPYTRADER_API_KEY": BPX_KEY,
    }
    # (id, command, environment changes, variable named, texts the line must hold)
    runs: list[tuple[str, list[str], dict[str, str | None], str, tuple[str, ...]]] = [
        (
            "platform unknown",
            ["plan"],
            {"COPYTRADER_PLATFORM": "binance"},
            "COPYTRADER_PLATFORM",
            ("haas or botprimex",),
        ),
        ("accounts file not set", ["reconcile"], base, "COPYTRADER_ACCOUNTS_FILE", ("required",)),
    ]
    for i, (name, text, mode, says) in enumerate(ACCOUNTS_FILES):
        path = tmp_path / f"accounts-{i}.toml"
        if text is not None:
            path.write_text(text, encoding="utf-8")
            path.chmod(mode)
        changes = {**base, "COPYTRADER_ACCOUNTS_FILE": str(path)}
        runs.append(
            (
                name,
                commands[i % len(commands)],
                changes,
                "COPYTRADER_ACCOUNTS_FILE",
                (f"{path}: ", says),
            )
        )

    def one(run: tuple[str, list[str], dict[str, str | None], str, tuple[str, ...]]) -> str | None:
        name, command, changes, variable, holds = run
        proc = _run(command, changes, tmp_path)
        try:
            _one_line_naming(proc, variable)
            assert all(h in proc.stderr for h in holds), proc.stderr
            assert FOLLOWER_KEY not in proc.stderr and BPX_KEY not in proc.stderr
        except AssertionError as exc:
            return f"{name} ({' '.join(command)}): {exc}"
        return None

    with ThreadPoolExecutor(max_workers=3) as pool:
        failures = [f for f in pool.map(one, runs) if f is not None]
    assert failures == []
