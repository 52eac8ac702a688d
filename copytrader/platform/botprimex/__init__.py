"""The BotPrimeX adapter (``botprimex-api.md``): one client per account behind the
``Platform`` port.

``client.BotPrimeXClient`` is the entry point (the port); ``account`` one account's client
(its key, rate limiter and Retry-After block), ``routes`` the route table, ``answers`` how
the API answers (errors mapped onto :mod:`copytrader.errors`), ``parse`` the JSON mapping,
``catalogue`` the bot fields as a catalogue. The shared HTTP machinery (``transport``,
``ratelimit``, ``backoff``) is one level up, in :mod:`copytrader.platform`.
``webhook`` parses the platform's inbound webhook bodies into
:class:`copytrader.core.events.InboundEvent` values.
"""
