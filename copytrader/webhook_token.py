"""The inbound webhook token (``COPYTRADER_WEBHOOK_TOKEN``): the secret path segment of the
BotPrimeX webhook URL.

Given as the variable, as a file (``COPYTRADER_WEBHOOK_TOKEN_FILE``) or as the systemd
credential ``copytrader-webhook-token``; empty means webhooks off. A bad value is a
ConfigError naming the variable and describing the problem, never showing the value.
"""

from __future__ import annotations

import re
from pathlib import Path

from copytrader.errors import ConfigError

#: A URL path segment: unreserved characters only, long enough not to be guessed.
PATTERN = re.compile(r"[A-Za-z0-9._~-]{16,256}")
CREDENTIAL = "copytrader-webhook-token"


def read(raw: object, file: object, credentials_dir: str | None, kind: str) -> str:
    """The token ("": none) from ``raw`` (the variable), else the file ``file`` names, else
    the systemd credential in ``credentials_dir``. Only BotPrimeX sends webhooks: a token
    for another platform (``kind``) is a mistake."""
    var = "COPYTRADER_WEBHOOK_TOKEN"
    if raw is None:
        path = file
        if path is not None:
            var = "COPYTRADER_WEBHOOK_TOKEN_FILE"
        else:
            candidate = Path(credentials_dir) / CREDENTIAL if credentials_dir else None
            if candidate is None or not candidate.is_file():
                return ""
            path = str(candidate)
            var = f"COPYTRADER_WEBHOOK_TOKEN (systemd credential {CREDENTIAL})"
        try:
            raw = Path(str(path)).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{var}: cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{var}: {path} is not UTF-8 text") from None
    token = str(raw).strip()
    if token and not PATTERN.fullmatch(token):
        raise ConfigError(
            f"{var}: the webhook token must be 16 to 256 characters, each a letter, a digit or "
            "one of - _ . ~ (it is a URL path segment; e.g. the output of openssl rand -hex 32)"
        )
    if token and kind != "botprimex":
        raise ConfigError(
            f"{var}: inbound webhooks are BotPrimeX's; this deployment drives {kind} "
            "(set COPYTRADER_PLATFORM=botprimex, or leave the token out)"
        )
    return token
