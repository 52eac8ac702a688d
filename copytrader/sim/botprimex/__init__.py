"""The simulator of the BotPrimeX API (``botprimex-api.md``): a real aiohttp server.

``state.BpxState`` holds the accounts (keys, plans, connected exchanges), their bots and
trades; ``app`` serves it over HTTP (Bearer keys, per-key rate limits, every refusal of the
API, the fault injection of :mod:`copytrader.sim.faults`); ``trading`` simulates trades and
profit from the shared price walk; ``webhooks`` delivers the platform's events to each
account's webhook URL; ``server`` runs it all on a loopback port; ``seed`` makes the demo
world.
"""
