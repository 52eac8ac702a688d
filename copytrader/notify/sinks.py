"""The sinks the settings ask for: the webhook, and one Apprise sink per URL (Apprise is
imported only when a URL is configured: it is slow to import)."""

from __future__ import annotations

from copytrader.notify.ports import Sink
from copytrader.notify.webhook import WebhookSink
from copytrader.notify_settings import NotifySettings


def build(settings: NotifySettings) -> list[Sink]:
    """Every configured sink. ConfigError naming the variable (never a URL) when Apprise
    does not understand one of the URLs."""
    sinks: list[Sink] = []
    if settings.webhook_url:
        sinks.append(WebhookSink(settings.webhook_url, settings.webhook_secret))
    if settings.urls:
        from copytrader.notify.apprise_sink import AppriseSink

        sinks.extend(AppriseSink(url, i) for i, url in enumerate(settings.urls, start=1))
    return sinks
