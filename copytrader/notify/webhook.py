"""The signed JSON webhook sink (``COPYTRADER_WEBHOOK_URL`` + ``COPYTRADER_WEBHOOK_SECRET``).

Each notification is one ``POST`` of its outbox body, byte for byte, with the headers
``X-Copytrader-Event-Id`` (the body's ``id``, the same on every retry),
``X-Copytrader-Timestamp`` (the send time, integer Unix seconds) and
``X-Copytrader-Signature: sha256=<hex HMAC-SHA256 of b"<timestamp>." + body>``. A 2xx answer
delivers it; anything else (a 3xx is not followed) fails the attempt, and a ``Retry-After``
is honoured. Errors name the status or the kind of failure, never the URL.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import aiohttp

from copytrader import __version__
from copytrader.core.records import Notification
from copytrader.notify.ports import DeliveryFailed
from copytrader.settings import Secret

#: Longest the receiver may take to answer one notification.
TIMEOUT_SECONDS = 10.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Copytrader-Signature`` value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def retry_after(value: str | None) -> float | None:
    """Seconds of a ``Retry-After`` header given in seconds (an HTTP date is ignored)."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < 86_400 else None


class WebhookSink:
    """POSTs signed JSON notifications to one URL."""

    kind = "webhook"
    name = "webhook"

    def __init__(self, url: Secret, secret: Secret, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._url = url
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def send(self, notification: Notification) -> None:
        """Deliver one notification; DeliveryFailed (naming no URL) when it is not taken."""
        body = notification.body.encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"copytrader/{__version__}",
            "X-Copytrader-Event-Id": notification.id,
            "X-Copytrader-Timestamp": timestamp,
            "X-Copytrader-Signature": sign(self._secret.reveal(), timestamp, body),
        }
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(
                self._url.reveal(), data=body, headers=headers, allow_redirects=False
            ) as resp:
                await resp.content.read(65_536)
                if 200 <= resp.status < 300:
                    return
                wait = retry_after(resp.headers.get("Retry-After"))
                raise DeliveryFailed(f"webhook answered HTTP {resp.status}", wait)
        except aiohttp.ClientError as exc:
            reason = f"webhook unreachable ({type(exc).__name__})"
            raise DeliveryFailed(reason) from None
        except TimeoutError:
            raise DeliveryFailed("webhook timed out") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
