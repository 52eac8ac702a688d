"""The optional TOML configuration file (``--config`` / ``COPYTRADER_CONFIG``).

Its keys are the settings' variable names in lower case, with or without the ``COPYTRADER_``
prefix (``copytrader_api_url`` and ``api_url`` are one key); :class:`ConfigFile` remembers
which ones the settings read, so that a key no setting reads (a typo) is refused by name
instead of being ignored.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from copytrader.errors import ConfigError

PREFIX = "copytrader_"


class ConfigFile:
    """The keys of the TOML file (``--config`` / ``COPYTRADER_CONFIG``), each by its setting
    name: ``api_url`` and ``copytrader_api_url`` are the same key. It remembers which names
    the settings asked for, so that :meth:`check_all_read` can refuse a key no setting reads
    (a typo would otherwise be ignored without a word)."""

    def __init__(self, path: Path | None = None, raw: Mapping[str, object] | None = None) -> None:
        self.path = path
        self._values: dict[str, object] = {}
        self._given: dict[str, str] = {}  # setting name -> the key as the file writes it
        self._asked: set[str] = set()
        for key, value in (raw or {}).items():
            if key != key.lower():
                raise ConfigError(
                    f"COPYTRADER_CONFIG: {path}: key {key!r}: the keys are lower case "
                    f"({key.lower()!r})"
                )
            name = key[len(PREFIX):] if key.startswith(PREFIX) else key
            if name in self._given:
                raise ConfigError(
                    f"COPYTRADER_CONFIG: {path}: {self._given[name]} and {key} are the same "
                    "setting; give it once"
                )
            self._values[name] = value
            self._given[name] = key

    def get(self, name: str) -> object:
        """The file's value of setting ``name`` (lower case, no prefix), or None."""
        self._asked.add(name)
        return self._values.get(name)

    def check_all_read(self) -> None:
        """ConfigError naming the first key of the file that no setting read."""
        from copytrader.core import words

        for name, key in self._given.items():
            if name in self._asked:
                continue
            known = sorted(self._asked)
            hint = words.did_you_mean(name, known)
            raise ConfigError(
                f"COPYTRADER_CONFIG: {self.path}: unknown key {key!r}{hint} (known: "
                f"{', '.join(known)})"
            )


def read(path: Path) -> ConfigFile:
    """The TOML file at ``path``; ConfigError (one line naming it) when it cannot be used."""
    try:
        with path.open("rb") as fh:
            return ConfigFile(path, tomllib.load(fh))
    except FileNotFoundError:
        raise ConfigError(f"COPYTRADER_CONFIG: file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"COPYTRADER_CONFIG: {path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"COPYTRADER_CONFIG: {path}: cannot read: {exc.strerror}") from None
