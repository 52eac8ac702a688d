"""The BotPrimeX adapter (``botprimex-api.md``).

``webhook`` parses the platform's inbound webhook events into
:class:`copytrader.core.events.InboundEvent` values.
"""
