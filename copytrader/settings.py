"""One typed settings object, built from the environment and an optional TOML file.

The environment wins over the file; the file's keys are the variable names in lower case,
without the ``COPYTRADER_`` prefix (``api_url = "..."``) or with it (``copytrader_api_url``).
A key no setting reads (a typo) is an error naming it. Every value is validated here, at
start-up, and a bad one raises :class:`~copytrader.errors.ConfigError` whose one-line message
names the variable. The API key is held in a :class:`~copytrader.secret.Secret` so that no
repr, log line or error message can show it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from copytrader import config_file as config_file_mod
from copytrader import notify_settings, webhook_token
from copytrader.config_file import ConfigFile
from copytrader.errors import ConfigError
from copytrader.notify_settings import NotifySettings as NotifySettings  # public here too
from copytrader.secret import Secret as Secret  # public here too: the adapters import it

PREFIX = "COPYTRADER_"

#: The platforms copytrader drives (``COPYTRADER_PLATFORM``): HaasOnline's partner API
#: (partner-api.md) and BotPrimeX (botprimex-api.md).
PLATFORMS = ("haas", "botprimex")


@dataclass(frozen=True)
class PlatformSettings:
    """How to reach the partner API.

    ``kind``: which platform (:data:`PLATFORMS`). ``accounts``: BotPrimeX only, each follower
    account's key by account name (``COPYTRADER_ACCOUNTS_FILE``); ``api_key`` is then the
    master account's.
    """

    api_url: str = ""
    api_key: Secret = field(default_factory=lambda: Secret(""))
    kind: str = "haas"
    accounts: Mapping[str, Secret] = field(default_factory=dict)
    accounts_file: Path | None = None
    rate_limit_per_minute: int = 100
    concurrency: int = 8
    timeout_seconds: float = 30.0
    #: The longest a platform write may take: a write starts only with a third of the writer
    #: lease left, so it must be answered (or given up) within that third.
    write_timeout_seconds: float = 5.0


@dataclass(frozen=True)
class DaemonSettings:
    interval_seconds: float = 60.0
    http_listen: tuple[str, int] = ("127.0.0.1", 8737)
    http_token: Secret = field(default_factory=lambda: Secret(""))
    retention_days: int = 90
    shutdown_timeout_seconds: float = 30.0
    #: The secret path segment of the inbound webhook URL; empty: no webhook route.
    webhook_token: Secret = field(default_factory=lambda: Secret(""))


@dataclass(frozen=True)
class Settings:
    """Everything copytrader is configured with. Build it with :func:`load`."""

    platform: PlatformSettings = field(default_factory=PlatformSettings)
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    database_url: str = field(default_factory=lambda: f"sqlite:///{default_database(os.environ)}")
    #: True when ``database_url`` is the default (the XDG state folder), whose folder
    #: copytrader creates (0700); a folder the user named must exist.
    database_is_default: bool = False
    policy_dir: Path = Path("policies")
    log_format: Literal["json", "console"] = "json"
    log_file: Path | None = None
    lease_seconds: int = 15
    notify: NotifySettings = field(default_factory=NotifySettings)


def _source(env: Mapping[str, str], file_values: ConfigFile, name: str) -> object:
    """The raw value of ``COPYTRADER_<NAME>``: the environment first, then the file."""
    var = PREFIX + name.upper()
    in_file = file_values.get(name.lower())
    if var in env and env[var] != "":
        return env[var]
    return in_file


def _int(var: str, raw: object, default: int, *, minimum: int = 1) -> int:
    if raw is None:
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{var}: expected a whole number, got {str(raw)!r}") from None
    if value < minimum:
        raise ConfigError(f"{var}: must be at least {minimum}, got {value}")
    return value


def _float(var: str, raw: object, default: float, *, minimum: float = 0.0) -> float:
    if raw is None:
        return default
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{var}: expected a number, got {str(raw)!r}") from None
    if not value > minimum or value != value or value == float("inf"):
        raise ConfigError(f"{var}: must be a finite number above {minimum:g}, got {raw}")
    return value


def parse_listen(var: str, raw: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` (``[::1]:PORT`` for IPv6)."""
    host, sep, port_text = raw.strip().rpartition(":")
    if not sep or not host:
        raise ConfigError(f"{var}: expected HOST:PORT, got {raw!r}")
    host = host.strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"{var}: port must be a number, got {port_text!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{var}: port must be 0..65535, got {port}")
    return host, port


def _api_key(env: Mapping[str, str], file_values: ConfigFile) -> Secret:
    key = _source(env, file_values, "api_key")
    key_file = _source(env, file_values, "api_key_file")
    if key is not None:
        return Secret(str(key).strip())
    if key_file is None:
        # systemd LoadCredential= puts credentials in $CREDENTIALS_DIRECTORY.
        cred_dir = env.get("CREDENTIALS_DIRECTORY")
        if cred_dir and (Path(cred_dir) / "copytrader-api-key").is_file():
            key_file = str(Path(cred_dir) / "copytrader-api-key")
        else:
            return Secret("")
    try:
        return Secret(Path(str(key_file)).read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise ConfigError(
            f"COPYTRADER_API_KEY_FILE: cannot read {key_file}: {exc.strerror}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"COPYTRADER_API_KEY_FILE: {key_file} is not UTF-8 text") from None


def default_database(env: Mapping[str, str]) -> Path:
    """``$XDG_STATE_HOME/copytrader/copytrader.db``, or ``~/.local/state/...`` when that is
    unset or not absolute (the XDG rule); never a path relative to the current folder."""
    state = env.get("XDG_STATE_HOME", "")
    if state and Path(state).is_absolute():
        return Path(state) / "copytrader" / "copytrader.db"
    home = env.get("HOME") or ""
    if not home:
        try:
            home = str(Path.home())
        except RuntimeError:
            home = ""
    if not home or not Path(home).is_absolute():
        raise ConfigError(
            "COPYTRADER_DATABASE_URL: not set, and there is no home folder for the default "
            "(~/.local/state/copytrader/copytrader.db): set it"
        )
    return Path(home) / ".local" / "state" / "copytrader" / "copytrader.db"


def _database_url(raw: object, env: Mapping[str, str]) -> str:
    url = str(raw) if raw is not None else f"sqlite:///{default_database(env)}"
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise ConfigError(
            "COPYTRADER_DATABASE_URL: expected sqlite:///PATH or postgresql://..., "
            f"got a URL with scheme {scheme!r}"
        )
    return url


def load(
    env: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
    *,
    require_platform: bool = True,
    stderr_is_tty: bool | None = None,
) -> Settings:
    """Build and validate the settings.

    ``require_platform`` False (the ``sim`` and ``demo`` commands, local queries) lets the API
    URL and key be absent. Raises ConfigError naming the first bad variable.
    """
    env = os.environ if env is None else env
    path = config_file or env.get(PREFIX + "CONFIG") or None
    file_values = config_file_mod.read(Path(path)) if path else ConfigFile()

    api_url = str(_source(env, file_values, "api_url") or "").strip().rstrip("/")
    if api_url and not api_url.startswith(("http://", "https://")):
        raise ConfigError(f"COPYTRADER_API_URL: expected an http(s):// URL, got {api_url!r}")
    api_key = _api_key(env, file_values)
    if require_platform:
        if not api_url:
            raise ConfigError("COPYTRADER_API_URL: required (the partner API base URL)")
        if not api_key:
            raise ConfigError(
                "COPYTRADER_API_KEY: required (or COPYTRADER_API_KEY_FILE naming a file)"
            )
    kind, accounts_file, accounts = _platform(env, file_values, api_key, require_platform)

    log_format_raw = _source(env, file_values, "log_format")
    if log_format_raw is None:
        tty = sys.stderr.isatty() if stderr_is_tty is None else stderr_is_tty
        log_format: Literal["json", "console"] = "console" if tty else "json"
    elif str(log_format_raw) in ("json", "console"):
        log_format = "json" if str(log_format_raw) == "json" else "console"
    else:
        raise ConfigError(
            f"COPYTRADER_LOG_FORMAT: expected json or console, got {log_format_raw!r}"
        )

    listen_raw = _source(env, file_values, "http_listen")
    listen = (
        parse_listen("COPYTRADER_HTTP_LISTEN", str(listen_raw))
        if listen_raw is not None
        else ("127.0.0.1", 8737)
    )
    token_raw = _source(env, file_values, "http_token")
    log_file_raw = _source(env, file_values, "log_file")
    lease_seconds, write_timeout = _lease(env, file_values)
    database_raw = _source(env, file_values, "database_url")

    loaded = Settings(
        platform=PlatformSettings(
            api_url=api_url,
            api_key=api_key,
            kind=kind,
            accounts=accounts,
            accounts_file=accounts_file,
            rate_limit_per_minute=_int(
                "COPYTRADER_RATE_LIMIT_PER_MINUTE",
                _source(env, file_values, "rate_limit_per_minute"),
                100,
            ),
            concurrency=_int("COPYTRADER_CONCURRENCY", _source(env, file_values, "concurrency"), 8),
            timeout_seconds=_float(
                "COPYTRADER_TIMEOUT_SECONDS", _source(env, file_values, "timeout_seconds"), 30.0
            ),
            write_timeout_seconds=write_timeout,
        ),
        daemon=DaemonSettings(
            interval_seconds=_float(
                "COPYTRADER_INTERVAL_SECONDS", _source(env, file_values, "interval_seconds"), 60.0
            ),
            http_listen=listen,
            http_token=Secret(str(token_raw) if token_raw is not None else ""),
            retention_days=_int(
                "COPYTRADER_RETENTION_DAYS", _source(env, file_values, "retention_days"), 90
            ),
            shutdown_timeout_seconds=_float(
                "COPYTRADER_SHUTDOWN_TIMEOUT_SECONDS",
                _source(env, file_values, "shutdown_timeout_seconds"),
                30.0,
            ),
            webhook_token=Secret(webhook_token.read(
                _source(env, file_values, "webhook_token"),
                _source(env, file_values, "webhook_token_file"),
                env.get("CREDENTIALS_DIRECTORY"), kind)),
        ),
        database_url=_database_url(database_raw, env),
        database_is_default=database_raw is None,
        policy_dir=Path(str(_source(env, file_values, "policy_dir") or "policies")),
        log_format=log_format,
        log_file=Path(str(log_file_raw)) if log_file_raw is not None else None,
        lease_seconds=lease_seconds,
        notify=notify_settings.read(
            _source(env, file_values, "notify_urls"),
            _source(env, file_values, "webhook_url"),
            _source(env, file_values, "webhook_secret"),
            _source(env, file_values, "notify_events"),
        ),
    )
    file_values.check_all_read()  # after every setting read its key
    return loaded


def _lease(env: Mapping[str, str], file_values: ConfigFile) -> tuple[int, float]:
    """``COPYTRADER_LEASE_SECONDS`` (5 to 300) and the write timeout it allows.

    A write is started only while at least a third of the lease is left, so a write's
    answer must come within that third: ``COPYTRADER_WRITE_TIMEOUT_SECONDS`` defaults to it
    and may not exceed it (each resend of a write that never left is checked again).
    """
    lease = _int(
        "COPYTRADER_LEASE_SECONDS", _source(env, file_values, "lease_seconds"), 15, minimum=5
    )
    if lease > 300:
        raise ConfigError(f"COPYTRADER_LEASE_SECONDS: must be 5 to 300, got {lease}")
    third = lease / 3
    raw = _source(env, file_values, "write_timeout_seconds")
    write_timeout = _float("COPYTRADER_WRITE_TIMEOUT_SECONDS", raw, third)
    if write_timeout > third + 1e-9:
        raise ConfigError(
            f"COPYTRADER_WRITE_TIMEOUT_SECONDS: {write_timeout:g} s is more than a third of "
            f"COPYTRADER_LEASE_SECONDS ({lease} s); a write must be answered within the "
            f"{third:g} s of lease it is started with: lower it or raise the lease"
        )
    return lease, write_timeout


def _platform(
    env: Mapping[str, str],
    file_values: ConfigFile,
    api_key: Secret,
    require_platform: bool,
) -> tuple[str, Path | None, Mapping[str, Secret]]:
    """``COPYTRADER_PLATFORM``, and for BotPrimeX the accounts file with its keys (read and
    checked only by commands that talk to the platform: they need the keys)."""
    raw = _source(env, file_values, "platform")
    kind = str(raw).strip() if raw is not None else "haas"
    if kind not in PLATFORMS:
        raise ConfigError(f"COPYTRADER_PLATFORM: expected {' or '.join(PLATFORMS)}, got {kind!r}")
    path_raw = _source(env, file_values, "accounts_file")
    path = Path(str(path_raw)) if path_raw is not None else None
    if kind != "botprimex" or not require_platform:
        return kind, path, {}
    if path is None:
        raise ConfigError(
            "COPYTRADER_ACCOUNTS_FILE: required with COPYTRADER_PLATFORM=botprimex "
            "(a TOML file of the follower accounts' API keys)"
        )
    from copytrader import accounts

    return kind, path, accounts.load(path, api_key)

