"""Settings from the environment and a TOML file: defaults, precedence, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from copytrader import settings
from copytrader.errors import ConfigError

BASE = {"COPYTRADER_API_URL": "http://127.0.0.1:8780", "COPYTRADER_API_KEY": "k"}


def test_defaults_match_the_contract() -> None:
    s = settings.load({**BASE, "HOME": "/home/ann"}, stderr_is_tty=False)
    assert s.database_url == "sqlite:////home/ann/.local/state/copytrader/copytrader.db"
    assert s.database_is_default
    assert s.policy_dir == Path("policies")
    assert s.daemon.interval_seconds == 60
    assert s.platform.rate_limit_per_minute == 100
    assert s.platform.concurrency == 8
    assert s.log_format == "json"
    assert s.daemon.http_listen == ("127.0.0.1", 8737)
    assert settings.load(BASE, stderr_is_tty=True).log_format == "console"


@pytest.mark.parametrize(
    ("env", "url", "default"),
    [
        ({"HOME": "/home/ann"}, "sqlite:////home/ann/.local/state/copytrader/copytrader.db", True),
        (
            {"HOME": "/home/ann", "XDG_STATE_HOME": "/var/state/ann"},
            "sqlite:////var/state/ann/copytrader/copytrader.db",
            True,
        ),
        (  # a relative XDG_STATE_HOME is ignored, as the XDG rule says
            {"HOME": "/home/ann", "XDG_STATE_HOME": "state"},
            "sqlite:////home/ann/.local/state/copytrader/copytrader.db",
            True,
        ),
        (
            {"HOME": "/home/ann", "COPYTRADER_DATABASE_URL": "sqlite:///rel.db"},
            "sqlite:///rel.db",
            False,
        ),
    ],
)
def test_the_database_default_is_the_xdg_state_folder_never_the_current_one(
    env: dict[str, str], url: str, default: bool
) -> None:
    s = settings.load({**BASE, **env}, stderr_is_tty=False)
    assert (s.database_url, s.database_is_default) == (url, default)


def test_no_home_and_no_database_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="COPYTRADER_DATABASE_URL: not set, and there is no "):
        settings.load({**BASE, "HOME": "relative"}, stderr_is_tty=False)


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('api_url = "http://file:1"\nconcurrency = 3\ninterval_seconds = 5\n')
    s = settings.load({**BASE, "COPYTRADER_CONCURRENCY": "4"}, f)
    assert s.platform.api_url == "http://127.0.0.1:8780"
    assert s.platform.concurrency == 4
    assert s.daemon.interval_seconds == 5


def test_the_file_keys_are_the_variables_in_lower_case_with_or_without_the_prefix(
    tmp_path: Path,
) -> None:
    """CONTRACT: the TOML file "may set the same keys in lower case": ``copytrader_api_url``
    (the variable's name in lower case) and ``api_url`` (without the prefix) both work."""
    f = tmp_path / "c.toml"
    f.write_text(
        'copytrader_api_url = "http://file:1"\ncopytrader_api_key = "from-file"\n'
        "interval_seconds = 5\ncopytrader_lease_seconds = 30\n"
    )
    s = settings.load({}, f)
    assert s.platform.api_url == "http://file:1"
    assert s.platform.api_key.reveal() == "from-file"
    assert (s.daemon.interval_seconds, s.lease_seconds) == (5, 30)
    s = settings.load({"COPYTRADER_LEASE_SECONDS": "60"}, f)  # the environment wins
    assert s.lease_seconds == 60


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("intervall_seconds = 5\n", r"unknown key 'intervall_seconds'; did you mean "
         r"'interval_seconds'\?"),
        ("copytrader_polcy_dir = 'p'\n", r"unknown key 'copytrader_polcy_dir'; did you mean "
         r"'policy_dir'\?"),
        ("API_URL = 'http://x'\n", r"key 'API_URL': the keys are lower case \('api_url'\)"),
        ("api_url = 'http://x'\ncopytrader_api_url = 'http://y'\n",
         "api_url and copytrader_api_url are the same setting"),
    ],
)
def test_a_file_key_no_setting_reads_is_refused_naming_it(
    tmp_path: Path, text: str, message: str
) -> None:
    f = tmp_path / "c.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=r"^COPYTRADER_CONFIG: .*c\.toml: " + message) as err:
        settings.load(BASE, f)
    assert "\n" not in str(err.value)


def test_key_file_and_systemd_credentials(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("from-file\n")
    env = {"COPYTRADER_API_URL": "http://x", "COPYTRADER_API_KEY_FILE": str(key)}
    assert settings.load(env).platform.api_key.reveal() == "from-file"
    (tmp_path / "copytrader-api-key").write_text("from-cred")
    env = {"COPYTRADER_API_URL": "http://x", "CREDENTIALS_DIRECTORY": str(tmp_path)}
    assert settings.load(env).platform.api_key.reveal() == "from-cred"


def test_secret_never_shows_itself() -> None:
    s = settings.load({**BASE, "COPYTRADER_API_KEY": "canary-123"})
    assert "canary-123" not in repr(s)
    assert "canary-123" not in str(s.platform.api_key)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"COPYTRADER_RATE_LIMIT_PER_MINUTE": "abc"}, "COPYTRADER_RATE_LIMIT_PER_MINUTE"),
        ({"COPYTRADER_RATE_LIMIT_PER_MINUTE": "0"}, "COPYTRADER_RATE_LIMIT_PER_MINUTE"),
        ({"COPYTRADER_CONCURRENCY": "-2"}, "COPYTRADER_CONCURRENCY"),
        ({"COPYTRADER_INTERVAL_SECONDS": "-1"}, "COPYTRADER_INTERVAL_SECONDS"),
        ({"COPYTRADER_INTERVAL_SECONDS": "nan"}, "COPYTRADER_INTERVAL_SECONDS"),
        ({"COPYTRADER_DATABASE_URL": "mysql://x"}, "COPYTRADER_DATABASE_URL"),
        ({"COPYTRADER_HTTP_LISTEN": "nope"}, "COPYTRADER_HTTP_LISTEN"),
        ({"COPYTRADER_HTTP_LISTEN": "127.0.0.1:99999"}, "COPYTRADER_HTTP_LISTEN"),
        ({"COPYTRADER_API_URL": "ftp://x"}, "COPYTRADER_API_URL"),
        ({"COPYTRADER_LOG_FORMAT": "xml"}, "COPYTRADER_LOG_FORMAT"),
        ({"COPYTRADER_API_KEY": ""}, "COPYTRADER_API_KEY"),
        ({"COPYTRADER_API_URL": ""}, "COPYTRADER_API_URL"),
        (
            {"COPYTRADER_API_KEY": "", "COPYTRADER_API_KEY_FILE": "/nonexistent/key"},
            "COPYTRADER_API_KEY_FILE",
        ),
    ],
)
def test_bad_values_name_the_variable_in_one_line(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as err:
        settings.load({**BASE, **env})
    message = str(err.value)
    assert message.startswith(variable)
    assert "\n" not in message


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("api_url = \n")
    with pytest.raises(ConfigError, match="COPYTRADER_CONFIG"):
        settings.load(BASE, f)


def test_platform_optional_for_local_commands() -> None:
    s = settings.load({}, require_platform=False)
    assert s.platform.api_url == ""


def test_the_lease_arithmetic_is_checked_at_start_up() -> None:
    base = {"COPYTRADER_API_URL": "http://x", "COPYTRADER_API_KEY": "k"}
    s = settings.load(base)
    assert s.lease_seconds == 15 and s.platform.write_timeout_seconds == 5.0
    s = settings.load({**base, "COPYTRADER_LEASE_SECONDS": "30"})
    assert s.platform.write_timeout_seconds == 10.0  # a third of the lease by default
    for bad in ("4", "301", "soon"):
        with pytest.raises(ConfigError, match="COPYTRADER_LEASE_SECONDS"):
            settings.load({**base, "COPYTRADER_LEASE_SECONDS": bad})
    with pytest.raises(ConfigError) as err:
        settings.load({**base, "COPYTRADER_WRITE_TIMEOUT_SECONDS": "6"})
    message = str(err.value)
    assert "\n" not in message and "COPYTRADER_WRITE_TIMEOUT_SECONDS" in message
    assert "a third of COPYTRADER_LEASE_SECONDS (15 s)" in message


def test_a_bad_lease_setting_is_exit_2_with_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYTRADER_")}
    env.update(COPYTRADER_API_URL="http://127.0.0.1:9", COPYTRADER_API_KEY="k",
               COPYTRADER_LEASE_SECONDS="6", COPYTRADER_WRITE_TIMEOUT_SECONDS="3",
               COPYTRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'ct.db'}")
    done = subprocess.run([sys.executable, "-m", "copytrader.cli.main", "reconcile"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "COPYTRADER_WRITE_TIMEOUT_SECONDS" in done.stderr


def test_botprimex_reads_the_accounts_file_only_where_the_platform_is_needed(
    tmp_path: Path,
) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text('[accounts.alice]\napi_key = "ka-1"\n\n[accounts.bob-2]\napi_key = "kb"\n')
    accounts.chmod(0o600)
    env = {**BASE, "COPYTRADER_PLATFORM": "botprimex", "COPYTRADER_ACCOUNTS_FILE": str(accounts)}
    s = settings.load(env)
    assert s.platform.kind == "botprimex" and s.platform.accounts_file == accounts
    assert {n: k.reveal() for n, k in s.platform.accounts.items()} == {"alice": "ka-1",
                                                                      "bob-2": "kb"}
    assert "ka-1" not in repr(s)
    assert settings.load(BASE).platform.kind == "haas"
    # a command that needs no platform (status, audit) neither requires nor reads it
    accounts.chmod(0o644)
    local = settings.load({"COPYTRADER_PLATFORM": "botprimex"}, require_platform=False)
    assert local.platform.accounts == {}
    with pytest.raises(ConfigError, match="readable or writable by group or others"):
        settings.load(env)
    # the file is only for BotPrimeX: a HaasOnline deployment ignores it
    assert settings.load({**env, "COPYTRADER_PLATFORM": "haas"}).platform.accounts == {}


BPX = {**BASE, "COPYTRADER_PLATFORM": "botprimex"}


def bpx(env: dict[str, str]) -> settings.Settings:
    """BotPrimeX settings as a command that does not talk to the platform reads them (no
    accounts file needed)."""
    return settings.load(env, require_platform=False)


def test_the_webhook_token_from_env_file_or_credential(tmp_path: Path) -> None:
    token = "wh-0123456789abcdef-XYZ._~"
    assert not bpx(BPX).daemon.webhook_token  # off by default
    s = bpx({**BPX, "COPYTRADER_WEBHOOK_TOKEN": token})
    assert s.daemon.webhook_token.reveal() == token and token not in repr(s)
    f = tmp_path / "token"
    f.write_text(f"{token}\n")
    s = bpx({**BPX, "COPYTRADER_WEBHOOK_TOKEN_FILE": str(f)})
    assert s.daemon.webhook_token.reveal() == token
    (tmp_path / "copytrader-webhook-token").write_text(token)
    s = bpx({**BPX, "CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert s.daemon.webhook_token.reveal() == token
    # An empty credential (the template unit's default) means webhooks off.
    (tmp_path / "copytrader-webhook-token").write_text("\n")
    assert not bpx({**BPX, "CREDENTIALS_DIRECTORY": str(tmp_path)}).daemon.webhook_token
    # The environment wins over the file.
    s = bpx({**BPX, "COPYTRADER_WEBHOOK_TOKEN": token + "2",
                       "COPYTRADER_WEBHOOK_TOKEN_FILE": str(f)})
    assert s.daemon.webhook_token.reveal() == token + "2"


@pytest.mark.parametrize(("env", "variable"), [
    ({"COPYTRADER_WEBHOOK_TOKEN": "short-canary"}, "COPYTRADER_WEBHOOK_TOKEN"),
    ({"COPYTRADER_WEBHOOK_TOKEN": "canary/with/slashes-0123"}, "COPYTRADER_WEBHOOK_TOKEN"),
    ({"COPYTRADER_WEBHOOK_TOKEN": "canary with spaces 0123"}, "COPYTRADER_WEBHOOK_TOKEN"),
    ({"COPYTRADER_WEBHOOK_TOKEN": "canary%2Fencoded%2F0123"}, "COPYTRADER_WEBHOOK_TOKEN"),
    ({"COPYTRADER_WEBHOOK_TOKEN": "canary-" + "x" * 250}, "COPYTRADER_WEBHOOK_TOKEN"),
    ({"COPYTRADER_WEBHOOK_TOKEN_FILE": "/nonexistent/canary"}, "COPYTRADER_WEBHOOK_TOKEN_FILE"),
])
def test_a_bad_webhook_token_is_named_never_shown(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as err:
        bpx({**BPX, **env})
    message = str(err.value)
    assert message.startswith(variable) and "\n" not in message
    if variable == "COPYTRADER_WEBHOOK_TOKEN":  # the value is described, never shown
        assert env[variable] not in message and "canary" not in message, message


def test_a_webhook_token_is_botprimex_only() -> None:
    token = "wh-0123456789abcdef-XYZ"
    with pytest.raises(ConfigError) as err:
        settings.load({**BASE, "COPYTRADER_WEBHOOK_TOKEN": token})
    message = str(err.value)
    assert message.startswith("COPYTRADER_WEBHOOK_TOKEN: inbound webhooks are BotPrimeX's")
    assert token not in message and "\n" not in message
    assert bpx({**BPX, "COPYTRADER_WEBHOOK_TOKEN": token}).daemon.webhook_token
