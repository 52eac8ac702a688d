"""The Apprise sink (``COPYTRADER_NOTIFY_URLS``): a short message for a person per
notification, to Telegram, Slack, Discord, e-mail or any service Apprise knows.

The only module that imports Apprise. Apprise sends synchronously, so each send runs in a
thread, one at a time per URL. Apprise's own log is silenced: its lines can carry a URL's
token. A failure says only that the service did not take the message.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import warnings

# Apprise's plugins import modules the standard library deprecates (imghdr): not ours to fix.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import apprise

from copytrader.core import notices
from copytrader.core.records import Notification
from copytrader.errors import ConfigError
from copytrader.notify.ports import DeliveryFailed
from copytrader.settings import Secret

_log = logging.getLogger("apprise")
_log.setLevel(logging.CRITICAL + 1)
_log.propagate = False


def sink_name(url: Secret) -> str:
    """``apprise-<12 hex>``: one URL's name in the outbox (a digest, never the URL)."""
    return "apprise-" + hashlib.sha256(url.reveal().encode()).hexdigest()[:12]


class AppriseSink:
    """One Apprise URL. ``index`` is its place in ``COPYTRADER_NOTIFY_URLS`` (from 1), named
    by the ConfigError raised when Apprise does not understand it."""

    kind = "apprise"

    def __init__(self, url: Secret, index: int) -> None:
        self.name = sink_name(url)
        self._apprise = apprise.Apprise()
        with warnings.catch_warnings():  # the first URL loads Apprise's plugins
            warnings.simplefilter("ignore", DeprecationWarning)
            known = self._apprise.add(url.reveal())
        if not known:
            raise ConfigError(
                f"COPYTRADER_NOTIFY_URLS: entry {index} is not a URL Apprise can send to "
                "(unknown scheme or a missing part)"
            )
        self._one_at_a_time = asyncio.Lock()

    async def send(self, notification: Notification) -> None:
        """Send the notification's short message; DeliveryFailed when it was not taken."""
        title, text = notices.message(json.loads(notification.body))
        async with self._one_at_a_time:
            ok = await asyncio.to_thread(self._apprise.notify, body=text, title=title)
        if not ok:
            raise DeliveryFailed("apprise: the service did not take the notification")

    async def close(self) -> None:
        return None
