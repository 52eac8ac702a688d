"""The BotPrimeX accounts file (``COPYTRADER_ACCOUNTS_FILE``): each follower account's key.

On BotPrimeX an API key is a whole account, so copytrader needs one key per follower
account. The file is TOML, one table per account::

    [accounts.alice]
    api_key = "..."

NAME (letters, digits, ``-``, ``_``) is what a policy's ``user:`` names. The file must not be
readable or writable by group or others, every key must be distinct, and the master account
(``COPYTRADER_API_KEY``) may not be in it. Every problem is a ConfigError naming the file
(exit 2); no message ever shows a key.
"""

from __future__ import annotations

import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from copytrader.errors import ConfigError
from copytrader.settings import Secret

VAR = "COPYTRADER_ACCOUNTS_FILE"
NAME = re.compile(r"^[A-Za-z0-9_-]+$")
#: Permission bits that let group or others read or change the keys.
OPEN_BITS = stat.S_IRGRP | stat.S_IWGRP | stat.S_IROTH | stat.S_IWOTH


def _bad(path: Path, message: str) -> ConfigError:
    return ConfigError(f"{VAR}: {path}: {message}")


def _read(path: Path) -> dict[str, object]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise _bad(path, "file not found") from None
    except OSError as exc:
        raise _bad(path, f"cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise _bad(path, "not a regular file")
    if mode & OPEN_BITS:
        raise _bad(
            path,
            f"readable or writable by group or others (mode {stat.S_IMODE(mode):04o}); "
            f"it holds API keys: chmod 600 {path}",
        )
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's messages name a position, never the text found there.
        raise _bad(path, f"invalid TOML: {exc}") from None
    except OSError as exc:
        raise _bad(path, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise _bad(path, "not UTF-8 text") from None


def load(path: Path, master_key: Secret) -> Mapping[str, Secret]:
    """Account name -> API key, from the file at ``path``; ConfigError naming the file and
    the problem (never a key) when it is unreadable, too open, or invalid."""
    doc = _read(path)
    unknown = sorted(set(doc) - {"accounts"})
    if unknown:
        raise _bad(path, f"unknown top-level key(s) {', '.join(unknown)}; expected [accounts.NAME]")
    tables = doc.get("accounts", {})
    if not isinstance(tables, dict):
        raise _bad(path, "'accounts' must be tables: [accounts.NAME] with api_key = \"...\"")
    keys: dict[str, Secret] = {}
    owner: dict[str, str] = {}
    for name, table in tables.items():
        if not NAME.match(name):
            raise _bad(path, f"account name {name!r}: use letters, digits, '-' and '_' only")
        if not isinstance(table, dict):
            raise _bad(path, f'[accounts.{name}] must be a table with api_key = "..."')
        extra = sorted(set(table) - {"api_key"})
        if extra:
            raise _bad(path, f"[accounts.{name}]: unknown key(s) {', '.join(extra)}")
        key = table.get("api_key")
        if not isinstance(key, str) or not key.strip():
            raise _bad(path, f"[accounts.{name}]: api_key must be a non-empty string")
        key = key.strip()
        if master_key and key == master_key.reveal():
            raise _bad(
                path,
                f"account {name} has the master account's key (COPYTRADER_API_KEY): the "
                "master account may not be in the accounts file",
            )
        if key in owner:
            raise _bad(path, f"accounts {owner[key]} and {name} have the same api_key")
        owner[key] = name
        keys[name] = Secret(key)
    return MappingProxyType(keys)
