"""Where notifications go (``COPYTRADER_NOTIFY_URLS``, ``COPYTRADER_WEBHOOK_URL`` and
``_SECRET``, ``COPYTRADER_NOTIFY_EVENTS``), read and checked at start-up.

A bad value is a ConfigError naming the variable; no message ever shows a URL or the secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from copytrader.core import audit_actions
from copytrader.errors import ConfigError
from copytrader.secret import Secret

#: The shortest webhook secret accepted (an HMAC key must not be guessable).
MIN_WEBHOOK_SECRET = 16


@dataclass(frozen=True)
class NotifySettings:
    """Where notifications go. Every URL and the secret are secrets: never shown."""

    urls: tuple[Secret, ...] = ()  # Apprise URLs
    webhook_url: Secret = field(default_factory=lambda: Secret(""))
    webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    events: frozenset[str] = frozenset(audit_actions.NOTIFY_DEFAULT)

    @property
    def enabled(self) -> bool:
        """True when at least one sink is configured (else no notification is written)."""
        return bool(self.urls) or bool(self.webhook_url)

    def secrets(self) -> list[str]:
        """Every secret value, to register with the log redaction."""
        values = [u.reveal() for u in self.urls]
        return [*values, self.webhook_url.reveal(), self.webhook_secret.reveal()]


def read(
    raw_urls: object, raw_hook: object, raw_key: object, raw_events: object
) -> NotifySettings:
    """The notification sinks and events from the raw values of ``COPYTRADER_NOTIFY_URLS``,
    ``_WEBHOOK_URL``, ``_WEBHOOK_SECRET`` and ``_NOTIFY_EVENTS`` (None: not set)."""
    urls: list[Secret] = []
    for i, part in enumerate(str(raw_urls or "").split(","), start=1):
        if part.strip():
            if "://" not in part:
                raise ConfigError(
                    f"COPYTRADER_NOTIFY_URLS: entry {i} is not a URL (expected SCHEME://...; "
                    "see the Apprise URL list)"
                )
            urls.append(Secret(part.strip()))
    hook = str(raw_hook or "").strip()
    key = str(raw_key or "").strip()
    if hook and not hook.startswith(("http://", "https://")):
        raise ConfigError("COPYTRADER_WEBHOOK_URL: expected an http(s):// URL")
    if hook and not key:
        raise ConfigError(
            "COPYTRADER_WEBHOOK_SECRET: required when COPYTRADER_WEBHOOK_URL is set (the key "
            "that signs each notification)"
        )
    if key and not hook:
        raise ConfigError("COPYTRADER_WEBHOOK_URL: required when COPYTRADER_WEBHOOK_SECRET is set")
    if key and len(key) < MIN_WEBHOOK_SECRET:
        raise ConfigError(
            f"COPYTRADER_WEBHOOK_SECRET: too short ({len(key)} characters); use at least "
            f"{MIN_WEBHOOK_SECRET} random characters"
        )
    if raw_events is None:
        return NotifySettings(tuple(urls), Secret(hook), Secret(key))
    from copytrader.core import notices  # only to read a list of events

    try:
        events = notices.parse(str(raw_events))
    except ValueError as exc:
        raise ConfigError(f"COPYTRADER_NOTIFY_EVENTS: {exc}") from None
    return NotifySettings(tuple(urls), Secret(hook), Secret(key), events)
